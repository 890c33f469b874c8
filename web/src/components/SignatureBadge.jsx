import Chip from "@mui/material/Chip";
import Tooltip from "@mui/material/Tooltip";
import S from "../strings.js";
import { SIGNATURE_COLORS } from "../theme.js";

// An official assembly against the vendor's signed manifest (Docs/official-library.md).
export default function SignatureBadge({ signature }) {
  if (!signature) return null;
  const colors = SIGNATURE_COLORS[signature] ?? SIGNATURE_COLORS.unsigned;
  return (
    <Tooltip title={S.signature.help[signature] ?? ""}>
      <Chip
        size="small"
        variant="outlined"
        label={S.signature.label[signature] ?? signature}
        data-testid="signature-badge"
        data-signature={signature}
        sx={{ color: colors.text, borderColor: colors.border, height: 22, fontSize: 12, fontWeight: 600 }}
      />
    </Tooltip>
  );
}
