// The alerts above the editor's form: a draft left behind, read-only, Dev Mode ended with
// unsaved edits, a conflict waiting for a decision, and the last error.
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import LockOpenIcon from "@mui/icons-material/LockOpen";
import RestoreIcon from "@mui/icons-material/Restore";
import S from "../strings.js";
import { formatTime } from "../format.js";
import { devModePrompt } from "../data/signals.js";

const ACTION_SX = {
  flexWrap: { xs: "wrap", sm: "nowrap" },
  "& .MuiAlert-action": { ml: { xs: 0, sm: "auto" }, pl: { xs: 0, sm: 2 }, width: { xs: "100%", sm: "auto" } },
};

function Actions({ children }) {
  return <Stack direction={{ xs: "column", sm: "row" }} spacing={1}>{children}</Stack>;
}

function action(label, onClick, testId, props = {}) {
  return (
    <Button color="inherit" size="small" onClick={onClick} data-testid={testId} sx={{ whiteSpace: "nowrap" }} {...props}>
      {label}
    </Button>
  );
}

// stranded: unsaved edits in a domain the user may no longer write (Dev Mode ended).
export default function EditorNotices({ draft, onRestoreDraft, onDiscardDraft, readOnly, stranded, admin, onClone, onSaveCopy, conflict, onResolve, error, onCloseError }) {
  return (
    <>
      {draft && (
        <Alert severity="info" data-testid="draft-offer" sx={ACTION_SX} action={
          <Actions>
            {action(S.drafts.restore, onRestoreDraft, "draft-restore", { variant: "outlined", startIcon: <RestoreIcon /> })}
            {action(S.drafts.discard, onDiscardDraft, "draft-discard")}
          </Actions>
        }>
          {S.drafts.offer(formatTime(draft.savedAt))}
        </Alert>
      )}
      {readOnly && (
        <Alert severity="warning" data-testid="read-only-banner" sx={ACTION_SX} action={
          <Actions>
            {action(S.editor.cloneToUser, onClone, "clone-to-user", { startIcon: <ContentCopyIcon /> })}
            {admin && action(S.editor.enableDevMode, () => devModePrompt.emit(), "enable-dev-mode", { variant: "outlined", startIcon: <LockOpenIcon /> })}
          </Actions>
        }>
          {S.editor.readOnlyBanner}
        </Alert>
      )}
      {stranded && (
        <Alert severity="warning" data-testid="dev-mode-ended" sx={ACTION_SX} action={
          <Actions>
            {admin && action(S.editor.enableDevMode, () => devModePrompt.emit(), "stranded-dev-mode", { variant: "outlined", startIcon: <LockOpenIcon /> })}
            {action(S.drafts.saveCopy, onSaveCopy, "stranded-save-copy", { startIcon: <ContentCopyIcon /> })}
          </Actions>
        }>
          {S.drafts.stranded}
        </Alert>
      )}
      {conflict && (
        <Alert severity="error" data-testid="conflict-message" action={action(S.editor.resolveConflict, onResolve, "conflict-resolve")}>
          {S.editor.conflict}
        </Alert>
      )}
      {error && (
        <Alert severity="error" onClose={onCloseError} data-testid="editor-error">
          {error}
        </Alert>
      )}
    </>
  );
}
