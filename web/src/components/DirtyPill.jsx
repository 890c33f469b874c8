import Chip from "@mui/material/Chip";
import Tooltip from "@mui/material/Tooltip";
import S from "../strings.js";
import { DIRTY_COLORS } from "../theme.js";

// Shown while a change is durable but not yet written to its domain database.
export default function DirtyPill({ size = "small" }) {
  return (
    <Tooltip title={S.dirtyPillHelp}>
      <Chip
        size={size}
        label={S.dirtyPill}
        data-testid="dirty-pill"
        sx={{
          bgcolor: DIRTY_COLORS.background,
          color: DIRTY_COLORS.text,
          border: `1px solid ${DIRTY_COLORS.border}`,
          fontWeight: 600,
          height: size === "small" ? 22 : 28,
          fontSize: size === "small" ? 12 : 13,
        }}
      />
    </Tooltip>
  );
}
