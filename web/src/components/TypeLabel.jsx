import Box from "@mui/material/Box";
import TerminalIcon from "@mui/icons-material/Terminal";
import DesktopWindowsIcon from "@mui/icons-material/DesktopWindows";
import CodeIcon from "@mui/icons-material/Code";
import DataObjectIcon from "@mui/icons-material/DataObject";
import SettingsSuggestIcon from "@mui/icons-material/SettingsSuggest";
import AccountTreeIcon from "@mui/icons-material/AccountTree";
import S from "../strings.js";

const ICONS = {
  powershell: TerminalIcon,
  batch: DesktopWindowsIcon,
  bash: CodeIcon,
  python: DataObjectIcon,
  ansible: SettingsSuggestIcon,
  workflow: AccountTreeIcon,
};

// Assembly type as icon + label ("PowerShell", "Workflow", …).
export default function TypeLabel({ type }) {
  const Icon = ICONS[type] || CodeIcon;
  return (
    <Box component="span" sx={{ display: "inline-flex", alignItems: "center", gap: 0.75 }} data-type={type}>
      <Icon fontSize="small" color="action" />
      <span>{S.types[type] || type || "—"}</span>
    </Box>
  );
}
