// A History comparison: one revision against the current one or against its parent ("what
// this revision changed"), or two picked revisions against each other; Restore (for those
// who could save) makes a single revision's content a new revision after a confirmation.
import { useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogTitle from "@mui/material/DialogTitle";
import ToggleButton from "@mui/material/ToggleButton";
import ToggleButtonGroup from "@mui/material/ToggleButtonGroup";
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
import useRevisionPair from "./useRevisionPair.js";

const label = (loaded) => S.history.revisionLabel(loaded.revision, formatTime(loaded.updated_at), loaded.updated_by);

// The two sides and the title of a comparison.
function sidesOf(comparison, against, record) {
  if (!comparison) return { before: null, after: null, title: "" };
  if (comparison.kind === "pair") {
    const { older, newer } = comparison;
    return { before: { revision: older.revision }, after: { revision: newer.revision }, title: S.history.pairTitle(older.revision, newer.revision) };
  }
  const { item, parent } = comparison;
  if (against === "parent") {
    return {
      before: parent ? { revision: parent } : null,
      after: { revision: item.revision },
      title: parent ? S.history.parentTitle(item.revision, parent) : S.history.firstTitle(item.revision),
    };
  }
  return { before: { revision: item.revision }, after: { record }, title: S.history.diffTitle(item.revision, record.revision) };
}

export default function RevisionDialog({ comparison, record, canRestore, touched, onClose, onRestored }) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down("sm"));
  const item = comparison?.kind === "single" ? comparison.item : null;
  const [against, setAgainst] = useState("current");
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    setConfirming(false);
    // The current revision compared with itself shows nothing: show what it changed.
    setAgainst(item && item.revision === record.revision ? "parent" : "current");
  }, [item, record.revision]);
  const sides = sidesOf(comparison, against, record);
  const pair = useRevisionPair(record.assembly_guid, sides.before, sides.after);

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
  const shown = !pair.loading && !pair.error && pair.after;
  return (
    <Dialog open={Boolean(comparison)} onClose={onClose} fullWidth maxWidth="xl" fullScreen={phone} data-testid="revision-dialog">
      <DialogTitle sx={{ pb: 1 }} data-testid="revision-title">{sides.title}</DialogTitle>
      <DialogContent dividers>
        {item && (
          <ToggleButtonGroup exclusive size="small" value={against} onChange={(_, value) => value && setAgainst(value)}
            aria-label={S.history.compareWith} sx={{ mb: 2, flexWrap: "wrap" }}>
            <ToggleButton value="current" data-testid="compare-current" disabled={item.revision === record.revision}>{S.history.againstCurrent}</ToggleButton>
            <ToggleButton value="parent" data-testid="compare-parent">{S.history.againstParent}</ToggleButton>
          </ToggleButtonGroup>
        )}
        {pair.error && <Alert severity="error">{pair.error}</Alert>}
        {pair.loading && <Typography color="text.secondary">{S.diff.loading}</Typography>}
        {shown && !pair.before && <Alert severity="info" sx={{ mb: 2 }} data-testid="revision-first">{S.history.firstRevision}</Alert>}
        {shown && pair.before && (
          <DiffView
            before={formFromRecord(pair.before)}
            after={formFromRecord(pair.after)}
            beforeLabel={label(pair.before)}
            afterLabel={sides.after?.record ? S.history.currentLabel(record.revision) : label(pair.after)}
          />
        )}
      </DialogContent>
      <DialogActions sx={{ flexWrap: "wrap", gap: 1 }}>
        <Button onClick={onClose} data-testid="revision-close">{S.history.close}</Button>
        {restorable && (
          <Button variant="contained" startIcon={<RestoreIcon />} disabled={!shown} onClick={() => setConfirming(true)} data-testid="restore">
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
