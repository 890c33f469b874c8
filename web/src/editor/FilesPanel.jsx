import { useRef } from "react";
import List from "@mui/material/List";
import ListItem from "@mui/material/ListItem";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import AttachFileIcon from "@mui/icons-material/AttachFile";
import FileUploadIcon from "@mui/icons-material/FileUpload";
import S from "../strings.js";

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function formatSize(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// payload.files: saved files (downloaded from the engine) and new uploads (base64 `data`).
export default function FilesPanel({ files, onChange, onDownload, readOnly }) {
  const input = useRef(null);
  const upload = async (event) => {
    const chosen = [...event.target.files];
    event.target.value = "";
    const added = await Promise.all(
      chosen.map(async (file) => ({
        file_name: file.name,
        mime_type: file.type || "application/octet-stream",
        size: file.size,
        data: await readAsBase64(file),
      })),
    );
    const names = new Set(added.map((f) => f.file_name));
    onChange([...files.filter((f) => !names.has(f.file_name)), ...added]);
  };
  return (
    <Stack spacing={1} data-testid="files-panel">
      {files.length === 0 ? (
        <Typography variant="body2" color="text.secondary">
          {S.editor.noFiles}
        </Typography>
      ) : (
        <List dense disablePadding>
          {files.map((file) => (
            <ListItem
              key={file.file_name}
              disableGutters
              data-testid="file-row"
              secondaryAction={
                <Stack direction="row" spacing={1}>
                  {onDownload && file.saved && (
                    <Button size="small" onClick={() => onDownload(file)}>
                      {S.editor.downloadFile}
                    </Button>
                  )}
                  {!readOnly && (
                    <Button size="small" color="error" onClick={() => onChange(files.filter((f) => f.file_name !== file.file_name))}>
                      {S.editor.removeFile}
                    </Button>
                  )}
                </Stack>
              }
            >
              <ListItemIcon sx={{ minWidth: 32 }}>
                <AttachFileIcon fontSize="small" />
              </ListItemIcon>
              <ListItemText
                primary={file.file_name}
                secondary={[file.mime_type, formatSize(file.size), file.saved ? null : S.editor.fileNotSaved].filter(Boolean).join(" · ")}
              />
            </ListItem>
          ))}
        </List>
      )}
      {!readOnly && (
        <>
          <input ref={input} type="file" multiple hidden onChange={upload} data-testid="file-input" />
          <Button size="small" startIcon={<FileUploadIcon />} onClick={() => input.current?.click()} sx={{ alignSelf: "flex-start" }}>
            {S.editor.upload}
          </Button>
        </>
      )}
    </Stack>
  );
}
