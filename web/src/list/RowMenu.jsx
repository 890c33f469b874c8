// A row's menu: open, clone, rename, delete, export. Rename and Delete say why when the
// caller may not write the row's domain.
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import OpenInNewIcon from "@mui/icons-material/OpenInNew";
import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import EditIcon from "@mui/icons-material/Edit";
import DeleteIcon from "@mui/icons-material/Delete";
import FileDownloadIcon from "@mui/icons-material/FileDownload";
import S from "../strings.js";

// menu: {anchor, data} or null; writable: whether the caller may change the row.
export default function RowMenu({ menu, writable, onClose, onOpen, onClone, onRename, onDelete, onExport }) {
  const row = menu?.data;
  const item = (testId, icon, label, action, { disabled = false, why = null } = {}) => (
    <MenuItem data-testid={testId} onClick={() => { onClose(); action(row); }} disabled={disabled}>
      <ListItemIcon>{icon}</ListItemIcon>
      <ListItemText secondary={disabled ? why : null}>{label}</ListItemText>
    </MenuItem>
  );
  const locked = { disabled: !row || !writable, why: row && !writable ? S.list.readOnlyWhy : null };
  return (
    <Menu anchorEl={menu?.anchor} open={Boolean(menu)} onClose={onClose}>
      {item("action-open", <OpenInNewIcon fontSize="small" />, S.list.open, onOpen)}
      {item("action-clone", <ContentCopyIcon fontSize="small" />, S.list.clone, onClone)}
      {item("action-rename", <EditIcon fontSize="small" />, S.list.rename, onRename, locked)}
      {item("action-delete", <DeleteIcon fontSize="small" />, S.list.delete, onDelete, locked)}
      {item("action-export", <FileDownloadIcon fontSize="small" />, S.list.export, onExport)}
    </Menu>
  );
}
