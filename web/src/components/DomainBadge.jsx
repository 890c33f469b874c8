import Chip from "@mui/material/Chip";
import { useTheme } from "@mui/material/styles";
import S from "../strings.js";
import { DOMAIN_COLORS } from "../theme.js";

// The source domain of an assembly as a coloured badge (Official / Community / User-Created).
export default function DomainBadge({ domain, size = "small" }) {
  const theme = useTheme();
  const colors = DOMAIN_COLORS[domain];
  if (!colors) return null;
  const color = colors[theme.palette.mode];
  return (
    <Chip
      size={size}
      label={S.domains[domain]}
      variant="outlined"
      data-testid="domain-badge"
      data-domain={domain}
      sx={{ color, borderColor: color, fontWeight: 600, height: size === "small" ? 22 : 28, fontSize: size === "small" ? 12 : 13 }}
    />
  );
}
