// The bar under the top bar that stays in view while scrolling: back, title and state,
// Import/Export and Save.
import { useRef, useState } from "react";
import Box from "@mui/material/Box";
import Paper from "@mui/material/Paper";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import ArrowBackIcon from "@mui/icons-material/ArrowBack";
import SaveIcon from "@mui/icons-material/Save";
import ImportExportIcon from "@mui/icons-material/ImportExport";
import FileDownloadIcon from "@mui/icons-material/FileDownload";
import FileUploadIcon from "@mui/icons-material/FileUpload";
import S from "../strings.js";
import { listUrl, navigate } from "../router.js";
import { formatTime } from "../format.js";
import DomainBadge from "../components/DomainBadge.jsx";
import DirtyPill from "../components/DirtyPill.jsx";
import { CheckCount } from "./ProblemsPanel.jsx";
import FavouriteStar from "../list/FavouriteStar.jsx";

function statusOf(record) {
  if (!record) return null;
  const state = record.is_dirty
    ? S.editor.dirtySince(formatTime(record.dirty_since))
    : record.last_persisted
      ? S.editor.lastPersisted(formatTime(record.last_persisted))
      : S.editor.neverPersisted;
  return `${state} · ${S.editor.revision(record.revision)}`;
}

// Library as code: where a synced assembly came from (metadata.sync, Docs/library-as-code.md).
function syncOrigin(record) {
  const note = record?.metadata?.sync;
  return note && typeof note === "object" && note.source
    ? S.editor.syncedFrom(String(note.source), String(note.path ?? ""), note.commit ? String(note.commit) : null)
    : null;
}

export default function EditorActionBar({ title, record, domain, touched, editable, canSave, saving, checks, onSave, onExport, onImportFile }) {
  const [ioMenu, setIoMenu] = useState(null);
  const fileInput = useRef(null);
  const status = statusOf(record);
  const synced = syncOrigin(record);
  return (
    <Paper
      elevation={0}
      data-testid="action-bar"
      sx={{
        position: "sticky",
        top: 48, // the dense top bar
        zIndex: (theme) => theme.zIndex.appBar - 1,
        px: { xs: 1, md: 2 },
        py: 1,
        mx: { xs: -1.5, md: -3 },
        borderBottom: 1,
        borderColor: "divider",
        borderRadius: 0,
        bgcolor: "background.default",
      }}
    >
      <Stack direction="row" spacing={1.5} sx={{ alignItems: "center", flexWrap: { xs: "wrap", md: "nowrap" }, rowGap: 1, maxWidth: 1400, mx: "auto" }}>
        <Button startIcon={<ArrowBackIcon />} onClick={() => navigate(listUrl())} sx={{ flexShrink: 0 }} aria-label={S.editor.back}>
          <Box component="span" sx={{ display: { xs: "none", sm: "inline" } }}>{S.editor.back}</Box>
        </Button>
        <Box sx={{ minWidth: 0, flex: { xs: "1 1 0", md: "1 1 auto" } }}>
          <Stack direction="row" sx={{ alignItems: "center", minWidth: 0, gap: 1, flexWrap: { xs: "wrap", md: "nowrap" } }}>
            <Typography variant="h6" component="h1" noWrap sx={{ fontWeight: 700, minWidth: 0, flex: { xs: "1 0 100%", md: "0 1 auto" } }} data-testid="editor-title" title={title}>
              {title}
            </Typography>
            {record && <FavouriteStar assembly={record} tabbable />}
            <DomainBadge domain={domain} />
            {!record && <Chip size="small" label={S.editor.newBadge} variant="outlined" data-testid="new-badge" />}
            {record?.is_dirty && <DirtyPill />}
            {touched && editable && (
              <Chip size="small" color="warning" variant="outlined" label={S.editor.unsavedBadge} data-testid="unsaved-badge" />
            )}
          </Stack>
          {status && (
            <Typography variant="caption" color="text.secondary" noWrap component="div" data-testid="persist-status">
              {status}
            </Typography>
          )}
          {synced && (
            <Typography variant="caption" color="text.secondary" noWrap component="div" data-testid="sync-origin" title={synced}>
              {synced}
            </Typography>
          )}
        </Box>
        <Stack direction="row" spacing={1} sx={{ flexShrink: 0, ml: "auto", width: { xs: "100%", md: "auto" }, justifyContent: "flex-end" }}>
          <Button variant="outlined" startIcon={<ImportExportIcon />} onClick={(e) => setIoMenu(e.currentTarget)} data-testid="import-export" sx={{ whiteSpace: "nowrap" }}>
            {S.editor.importExport}
          </Button>
          {editable && <Box sx={{ alignSelf: "center" }}><CheckCount checks={checks} /></Box>}
          {editable && (
            <Button variant="contained" startIcon={<SaveIcon />} onClick={onSave} disabled={!canSave} data-testid="save"
              title={S.editor.saveShortcut} sx={{ whiteSpace: "nowrap" }}>
              {saving ? S.editor.saving : S.editor.save}
            </Button>
          )}
        </Stack>
        <Menu anchorEl={ioMenu} open={Boolean(ioMenu)} onClose={() => setIoMenu(null)}>
          <MenuItem onClick={() => { setIoMenu(null); onExport(); }} disabled={!record} data-testid="export-json">
            <ListItemIcon><FileDownloadIcon fontSize="small" /></ListItemIcon>
            <ListItemText>{S.editor.exportJson}</ListItemText>
          </MenuItem>
          <MenuItem data-testid="import-json" onClick={() => { setIoMenu(null); fileInput.current?.click(); }}>
            <ListItemIcon><FileUploadIcon fontSize="small" /></ListItemIcon>
            <ListItemText>{S.editor.importJson}</ListItemText>
          </MenuItem>
        </Menu>
        <input ref={fileInput} type="file" accept=".json,.yml,.yaml,.ps1,.bat,.cmd,.sh,.py,application/json" hidden onChange={onImportFile} data-testid="import-input" />
      </Stack>
    </Paper>
  );
}
