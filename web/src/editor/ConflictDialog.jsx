// A save refused as stale (409): what the other person changed against what you changed,
// and the three ways out. Nothing here discards your edits unless you pick "Keep theirs".
import { useState } from "react";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogTitle from "@mui/material/DialogTitle";
import Typography from "@mui/material/Typography";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import S from "../strings.js";
import { formFromRecord } from "../assemblyForm.js";
import { formatTime } from "../format.js";
import { ActionDialog } from "../components/Dialogs.jsx";
import DiffView from "./DiffView.jsx";
import { changedLabels } from "./revisionDiff.js";

function Summary({ label, items, testId }) {
  return (
    <Typography variant="body2" data-testid={testId}>
      <Box component="span" sx={{ fontWeight: 700 }}>{label}:</Box> {items.length ? items.join(", ") : S.conflict.nothing}
    </Typography>
  );
}

// theirs: the record now stored; base: the form as you loaded it; mine: the form now.
// combined: {form, conflicts} from data/combine.js; onCombine puts it into the form.
export default function ConflictDialog({ open, theirs, base, mine, canCopy, combined, onCombine, onKeepTheirs, onOverwrite, onSaveCopy, onLater }) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down("sm"));
  const [confirming, setConfirming] = useState(false);
  if (!theirs) return null;
  const theirsForm = formFromRecord(theirs);
  const canCombine = Boolean(combined) && combined.conflicts.length === 0;
  const labels = changedLabels(base, { ...base, ...Object.fromEntries((combined?.conflicts || []).map((f) => [f, mine[f]])) });
  const choice = (label, props) => (
    <Button {...props} sx={{ whiteSpace: "nowrap" }}>
      {label}
    </Button>
  );
  return (
    <Dialog open={open} onClose={onLater} fullWidth maxWidth="xl" fullScreen={phone} data-testid="conflict-dialog">
      <DialogTitle sx={{ pb: 1 }}>{S.conflict.title}</DialogTitle>
      <DialogContent dividers>
        <DialogContentText sx={{ mb: 1.5 }}>
          {S.conflict.text(theirs.updated_by, formatTime(theirs.updated_at), theirs.revision)}
        </DialogContentText>
        <Box sx={{ display: "grid", gap: 0.5, mb: 2 }}>
          <Summary label={S.conflict.theyChanged} items={changedLabels(base, theirsForm)} testId="they-changed" />
          <Summary label={S.conflict.youChanged} items={changedLabels(base, mine)} testId="you-changed" />
        </Box>
        <DiffView before={theirsForm} after={mine} beforeLabel={S.conflict.theirs(theirs.revision)} afterLabel={S.conflict.yours} />
        <Box component="ul" sx={{ mt: 2, mb: 0, pl: 2.5, color: "text.secondary", typography: "body2" }} data-testid="conflict-choices">
          <li data-testid="combine-help">
            <b>{S.conflict.combine}:</b> {canCombine ? S.conflict.combineHelp : S.conflict.combineBlocked(labels.join(", "))}
          </li>
          <li><b>{S.conflict.keepTheirs}:</b> {S.conflict.keepTheirsHelp}</li>
          <li><b>{S.conflict.overwrite.replace("…", "")}:</b> {S.conflict.overwriteHelp}</li>
          {canCopy && <li><b>{S.conflict.saveCopy.replace("…", "")}:</b> {S.conflict.saveCopyHelp}</li>}
        </Box>
      </DialogContent>
      <DialogActions
        sx={{
          flexWrap: "wrap", gap: 1, justifyContent: { xs: "stretch", sm: "flex-end" },
          "& > :not(style) ~ :not(style)": { ml: 0 },
          // On a phone: "Decide later" and "Keep theirs" share a row, the others get one each.
          "& > *": { flex: { xs: "1 1 100%", sm: "0 0 auto" } },
          "& > :nth-of-type(-n+2)": { flex: { xs: "1 1 calc(50% - 4px)", sm: "0 0 auto" } },
        }}
      >
        {choice(S.conflict.later, { onClick: onLater, "data-testid": "conflict-later" })}
        {choice(S.conflict.keepTheirs, { onClick: onKeepTheirs, variant: "outlined", color: "error", "data-testid": "conflict-keep-theirs" })}
        {canCopy && choice(S.conflict.saveCopy, { onClick: onSaveCopy, variant: "outlined", "data-testid": "conflict-save-copy" })}
        {canCombine && choice(S.conflict.combine, { onClick: onCombine, variant: "contained", color: "success", "data-testid": "conflict-combine" })}
        {choice(S.conflict.overwrite, { onClick: () => setConfirming(true), variant: "contained", "data-testid": "conflict-overwrite" })}
      </DialogActions>
      <ActionDialog
        open={confirming}
        title={S.conflict.overwriteTitle}
        onClose={() => setConfirming(false)}
        onSubmit={async () => {
          await onOverwrite();
          setConfirming(false);
        }}
        submitLabel={S.conflict.overwriteSubmit}
        submitColor="warning"
        testId="overwrite-dialog"
      >
        <DialogContentText>{S.conflict.overwriteText(theirs.revision)}</DialogContentText>
      </ActionDialog>
    </Dialog>
  );
}
