// The editor's History panel: every kept revision (who, when, what made it, what it
// changed). Selecting one compares it with the current revision; Restore (for those who
// could save) makes its content a new revision after a confirmation.
import { useCallback, useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogTitle from "@mui/material/DialogTitle";
import List from "@mui/material/List";
import ListItemButton from "@mui/material/ListItemButton";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import RestoreIcon from "@mui/icons-material/Restore";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { formFromRecord } from "../assemblyForm.js";
import { formatTime } from "../format.js";
import { ActionDialog } from "../components/Dialogs.jsx";
import DiffView from "./DiffView.jsx";

const PAGE = 20;

function RevisionRow({ item, onOpen }) {
  return (
    <ListItemButton
      onClick={() => onOpen(item)}
      data-testid="history-item"
      data-revision={item.revision}
      title={S.history.open(item.revision)}
      divider
      sx={{ display: "grid", gridTemplateColumns: { xs: "1fr", md: "minmax(150px, 0.8fr) 1.2fr 2fr" }, gap: { xs: 0.5, md: 2 }, alignItems: "center", py: 1 }}
    >
      <Stack direction="row" spacing={1} sx={{ alignItems: "center" }}>
        <Typography variant="body2" sx={{ fontWeight: 700, fontVariantNumeric: "tabular-nums" }}>
          {S.editor.revision(item.revision)}
        </Typography>
        {item.is_current && <Chip size="small" color="primary" variant="outlined" label={S.history.current} data-testid="history-current" />}
      </Stack>
      <Typography variant="body2" color="text.secondary" data-testid="history-who">
        {S.history.actions[item.action] || item.action} · {S.dialogs.changedBy(formatTime(item.updated_at), item.updated_by)}
      </Typography>
      <Stack direction="row" sx={{ flexWrap: "wrap", gap: 0.5 }} data-testid="history-changed">
        {item.changed_fields.length
          ? item.changed_fields.map((field) => (
            <Chip key={field} size="small" label={S.history.fields[field] || field} sx={{ height: 22, fontSize: 12 }} />
          ))
          : <Typography variant="body2" color="text.secondary">{S.history.nothingChanged}</Typography>}
      </Stack>
    </ListItemButton>
  );
}

// The comparison of one revision with the current record, and its Restore.
function RevisionDialog({ item, record, canRestore, touched, onClose, onRestored }) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down("sm"));
  const [old, setOld] = useState(null);
  const [error, setError] = useState(null);
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    setOld(null);
    setError(null);
    setConfirming(false);
    if (!item) return;
    let live = true;
    Assemblies.revision(record.assembly_guid, item.revision)
      .then((loaded) => live && setOld(loaded))
      .catch((err) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [item, record.assembly_guid]);

  const restore = async () => {
    try {
      const restored = await Assemblies.restore(record.assembly_guid, item.revision, record.revision);
      onRestored(item.revision, restored);
    } catch (err) {
      if (err.status === 409) throw new Error(S.history.restoreConflict(err.message));
      if (err.status === 403) throw new Error(S.history.restoreDenied(err.message));
      throw err;
    }
  };

  const restorable = canRestore && item && !item.is_current && item.revision !== record.revision;
  return (
    <Dialog open={Boolean(item)} onClose={onClose} fullWidth maxWidth="xl" fullScreen={phone} data-testid="revision-dialog">
      <DialogTitle sx={{ pb: 1 }}>{item ? S.history.diffTitle(item.revision, record.revision) : ""}</DialogTitle>
      <DialogContent dividers>
        {error && <Alert severity="error">{error}</Alert>}
        {!old && !error && <Typography color="text.secondary">{S.diff.loading}</Typography>}
        {old && (
          <DiffView
            before={formFromRecord(old)}
            after={formFromRecord(record)}
            beforeLabel={S.history.revisionLabel(old.revision, formatTime(old.updated_at), old.updated_by)}
            afterLabel={S.history.currentLabel(record.revision)}
          />
        )}
      </DialogContent>
      <DialogActions sx={{ flexWrap: "wrap", gap: 1 }}>
        <Button onClick={onClose} data-testid="revision-close">{S.history.close}</Button>
        {restorable && (
          <Button variant="contained" startIcon={<RestoreIcon />} disabled={!old} onClick={() => setConfirming(true)} data-testid="restore">
            {S.history.restore}
          </Button>
        )}
      </DialogActions>
      <ActionDialog
        open={confirming}
        title={item ? S.history.restoreTitle(item.revision) : ""}
        onClose={() => setConfirming(false)}
        onSubmit={restore}
        submitLabel={S.history.restoreSubmit}
        testId="restore-dialog"
      >
        <DialogContentText>{item ? S.history.restoreText(item.revision, record.revision + 1) : ""}</DialogContentText>
        {touched && (
          <Alert severity="warning" sx={{ mt: 2 }} data-testid="restore-loses-edits">{S.history.restoreLosesEdits}</Alert>
        )}
      </ActionDialog>
    </Dialog>
  );
}

export default function HistoryPanel({ record, canRestore, touched, onRestored }) {
  const guid = record.assembly_guid;
  const [page, setPage] = useState(null);
  const [limit, setLimit] = useState(PAGE);
  const [error, setError] = useState(null);
  const [open, setOpen] = useState(null);

  const load = useCallback(async () => {
    try {
      setPage(await Assemblies.revisions(guid, { limit }));
      setError(null);
    } catch (err) {
      setError(err.message);
    }
  }, [guid, limit]);

  // Again after every save or restore (a new current revision).
  useEffect(() => {
    load();
  }, [load, record.revision]);

  const restored = (revision, result) => {
    setOpen(null);
    onRestored(revision, result);
  };

  return (
    <Box data-testid="history-panel">
      {error && <Alert severity="error" action={<Button color="inherit" size="small" onClick={load} data-testid="history-retry">{S.history.retry}</Button>}>{error}</Alert>}
      {!page && !error && <Typography variant="body2" color="text.secondary">{S.history.loading}</Typography>}
      {page && !page.items.length && <Typography variant="body2" color="text.secondary">{S.history.empty}</Typography>}
      {page && page.items.length > 0 && (
        <List dense disablePadding sx={{ border: 1, borderColor: "divider", borderRadius: 1, "& > :last-of-type": { borderBottom: 0 } }} data-testid="history-list">
          {page.items.map((item) => (
            <RevisionRow key={item.revision} item={item} onOpen={setOpen} />
          ))}
        </List>
      )}
      {page && page.total > page.items.length && (
        <Button size="small" sx={{ mt: 1 }} onClick={() => setLimit((n) => n + PAGE * 5)} data-testid="history-more">
          {S.history.showMore(page.items.length, page.total)}
        </Button>
      )}
      <RevisionDialog
        item={open}
        record={record}
        canRestore={canRestore}
        touched={touched}
        onClose={() => {
          setOpen(null);
          load(); // a refused restore may have been someone else's newer revision
        }}
        onRestored={restored}
      />
    </Box>
  );
}
