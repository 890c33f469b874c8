// The look of the list's cells, as one set of CSS rules on the grid's box. A screen of
// rows is drawn from plain elements with these classes: built from MUI components (chips,
// icon buttons, tooltips: each a styled component with its own hooks and styles) the rows
// took most of the time from the engine's answer to the first row on screen.
import { DIRTY_COLORS, DOMAIN_COLORS, SIGNATURE_COLORS } from "../theme.js";

export function cellStyles(theme) {
  const mode = theme.palette.mode;
  const ring = { outline: `2px solid ${theme.palette.primary.main}`, outlineOffset: 2 };
  const domains = Object.fromEntries(
    Object.entries(DOMAIN_COLORS).map(([domain, colors]) => [`& .ae-domain[data-domain="${domain}"]`, { color: colors[mode], borderColor: colors[mode] }]),
  );
  const signatures = Object.fromEntries(
    Object.entries(SIGNATURE_COLORS).map(([signature, colors]) => [`& .ae-signature[data-signature="${signature}"]`, { color: colors.text, borderColor: colors.border }]),
  );
  return {
    "& .ae-row": { display: "flex", alignItems: "center", gap: "6px", height: "100%", minWidth: 0 },
    "& .ae-name-line": { display: "flex", alignItems: "center", gap: "8px", height: "100%", minWidth: 0, flex: 1 },
    "& .ae-phone": { flexDirection: "column", alignItems: "flex-start", justifyContent: "center", gap: "2px", py: 0.75, lineHeight: "normal" },
    "& .ae-badges": { display: "flex", alignItems: "center", gap: "6px" },
    "& .ae-name": {
      color: theme.palette.primary.main, fontWeight: 600, minWidth: 0, textDecoration: "none",
      overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap",
      "&:hover": { textDecoration: "underline" },
    },
    "& .ae-phone .ae-name": { lineHeight: 1.35, whiteSpace: "normal", overflowWrap: "anywhere", display: "-webkit-box", WebkitLineClamp: 2, WebkitBoxOrient: "vertical" },
    "& .ae-chip": {
      display: "inline-flex", alignItems: "center", flexShrink: 0, boxSizing: "border-box", height: 22, px: 1, borderRadius: 11,
      border: "1px solid", fontSize: 12, fontWeight: 600, lineHeight: 1, whiteSpace: "nowrap", background: "none", fontFamily: "inherit",
    },
    ...domains,
    ...signatures,
    "& .ae-check[data-severity='error']": { color: theme.palette.error.main, borderColor: theme.palette.error.main },
    "& .ae-check[data-severity='warning']": { color: mode === "dark" ? theme.palette.warning.light : "#8a4b00", borderColor: theme.palette.warning.main },
    // The mark's words where the name has the width (from 1680 px, and on a phone under the
    // name); from 600 px to 1679 px its icon and number, so the name keeps the width.
    "& .ae-check .ae-icon": { display: "none", width: 14, height: 14, mr: "2px" },
    "& .ae-check-word": { whiteSpace: "pre" },
    [`@media (min-width: ${theme.breakpoints.values.sm}px) and (max-width: 1679.95px)`]: {
      "& .ae-check": { px: 0.75 },
      "& .ae-check .ae-icon": { display: "inline-block" },
      "& .ae-check-word": { display: "none" },
    },
    "& .ae-dirty": { background: DIRTY_COLORS.background, color: DIRTY_COLORS.text, borderColor: DIRTY_COLORS.border },
    "& .ae-tags": { display: "flex", gap: "4px", flexShrink: 1, minWidth: 0, overflow: "hidden" },
    "& .ae-tag": {
      height: 20, px: 0.75, maxWidth: 120, fontWeight: 500, color: theme.palette.text.primary, borderColor: mode === "dark" ? "#616161" : "#bdbdbd",
      overflow: "hidden", textOverflow: "ellipsis", cursor: "pointer",
      "&:hover": { background: theme.palette.action.hover }, "&:focus-visible": ring,
    },
    "& .ae-more": { height: 20, px: 0.75, fontWeight: 500, color: theme.palette.text.primary, background: theme.palette.action.selected, borderColor: "transparent" },
    "& .ae-icon-button": {
      display: "inline-flex", alignItems: "center", justifyContent: "center", flexShrink: 0, border: 0, borderRadius: "50%",
      background: "none", color: theme.palette.text.secondary, cursor: "pointer", padding: "5px",
      "&:hover": { background: theme.palette.action.hover }, "&:focus-visible": ring,
    },
    "& .ae-star": { padding: "2px" },
    "& .ae-star[aria-pressed='true']": { color: theme.palette.warning.main },
    "& .ae-type": { display: "inline-flex", alignItems: "center", gap: "6px" },
    "& .ae-type svg": { color: theme.palette.action.active },
    "& .ae-icon": { width: 20, height: 20, fill: "currentColor", flexShrink: 0 },
    "& .ae-match": { display: "flex", flexDirection: "column", justifyContent: "center", height: "100%", minWidth: 0 },
    "& .ae-match > .ae-row": { height: 22 },
    "& .ae-match-line": {
      fontFamily: "monospace", fontSize: 11, lineHeight: "14px", color: theme.palette.text.secondary, minWidth: 0,
      overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap",
    },
    "& .ae-match-number": { opacity: 0.7, mr: 0.75 },
    "& .ae-loading": { color: theme.palette.text.secondary },
  };
}
