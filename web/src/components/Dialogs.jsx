import { useEffect, useState } from "react";
import Dialog from "@mui/material/Dialog";
import DialogTitle from "@mui/material/DialogTitle";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogActions from "@mui/material/DialogActions";
import Button from "@mui/material/Button";
import TextField from "@mui/material/TextField";
import MenuItem from "@mui/material/MenuItem";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import S from "../strings.js";
import { formatTime } from "../format.js";
import { useSession, writableDomains } from "../session.js";

// Shared frame: a title, content, an error line and Cancel / submit.
export function ActionDialog({ open, title, onClose, onSubmit, submitLabel, submitColor = "primary", canSubmit = true, children, testId }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (open) {
      setBusy(false);
      setError(null);
    }
  }, [open]);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit();
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onClose={onClose} maxWidth="xs" fullWidth data-testid={testId}>
      <form onSubmit={submit}>
        <DialogTitle>{title}</DialogTitle>
        <DialogContent>
          {error && (
            <Alert severity="error" sx={{ mb: 2 }}>
              {error}
            </Alert>
          )}
          {children}
        </DialogContent>
        <DialogActions>
          <Button onClick={onClose}>{S.dialogs.cancel}</Button>
          <Button type="submit" variant="contained" color={submitColor} disabled={busy || !canSubmit}>
            {submitLabel}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

// Also "save my edits as a new copy" after a conflict (its own title and text).
export function CloneDialog({ assembly, onClose, onClone, targets, title = S.dialogs.cloneTitle, text, submitLabel = S.dialogs.cloneSubmit, testId = "clone-dialog" }) {
  const session = useSession();
  const domains = (targets || writableDomains(session)).filter((d) => writableDomains(session).includes(d));
  const [target, setTarget] = useState("user");
  const [name, setName] = useState("");
  useEffect(() => {
    setTarget("user");
    setName(assembly ? S.dialogs.copyName(assembly.display_name).slice(0, 200) : "");
  }, [assembly]);
  return (
    <ActionDialog
      open={Boolean(assembly)}
      title={title}
      onClose={onClose}
      onSubmit={() => onClone(assembly, target, name.trim())}
      submitLabel={submitLabel}
      canSubmit={Boolean(name.trim())}
      testId={testId}
    >
      <DialogContentText sx={{ mb: 2 }}>{assembly ? text || S.dialogs.cloneText(assembly.display_name, S.domains[assembly.source]) : ""}</DialogContentText>
      <TextField
        label={S.dialogs.cloneName}
        value={name}
        onChange={(e) => setName(e.target.value)}
        fullWidth
        autoFocus
        margin="dense"
        slotProps={{ htmlInput: { "data-testid": "clone-name", maxLength: 200 } }}
      />
      {domains.length > 0 && (
        <TextField
          select
          label={S.dialogs.cloneTarget}
          value={target}
          onChange={(e) => setTarget(e.target.value)}
          fullWidth
          margin="dense"
          slotProps={{ select: { SelectDisplayProps: { "data-testid": "clone-target" } } }}
        >
          {domains.map((domain) => (
            <MenuItem key={domain} value={domain} data-testid={`clone-target-${domain}`}>
              {S.domains[domain]}
            </MenuItem>
          ))}
        </TextField>
      )}
    </ActionDialog>
  );
}

export function RenameDialog({ assembly, onClose, onRename }) {
  const [name, setName] = useState("");
  useEffect(() => setName(assembly?.display_name || ""), [assembly]);
  return (
    <ActionDialog
      open={Boolean(assembly)}
      title={S.dialogs.renameTitle}
      onClose={onClose}
      onSubmit={() => onRename(assembly, name.trim())}
      submitLabel={S.dialogs.renameSubmit}
      canSubmit={Boolean(name.trim())}
      testId="rename-dialog"
    >
      <TextField
        label={S.dialogs.renameLabel}
        value={name}
        onChange={(e) => setName(e.target.value)}
        fullWidth
        autoFocus
        margin="dense"
        name="rename"
      />
    </ActionDialog>
  );
}

export function DeleteDialog({ assembly, onClose, onDelete }) {
  return (
    <ActionDialog
      open={Boolean(assembly)}
      title={S.dialogs.deleteTitle}
      onClose={onClose}
      onSubmit={() => onDelete(assembly)}
      submitLabel={S.dialogs.deleteSubmit}
      submitColor="error"
      testId="delete-dialog"
    >
      {assembly && (
        <>
          <DialogContentText>{S.dialogs.deleteText(assembly.display_name)}</DialogContentText>
          <Box component="dl" data-testid="delete-details" sx={{ display: "grid", gridTemplateColumns: "auto 1fr", columnGap: 2, rowGap: 0.5, mt: 2, mb: 0, "& dt": { color: "text.secondary" }, "& dd": { m: 0, overflowWrap: "anywhere" } }}>
            <dt>{S.list.columns.source}</dt>
            <dd>{S.domains[assembly.source] || assembly.source}</dd>
            <dt>{S.list.columns.category}</dt>
            <dd>{assembly.category || S.time.never}</dd>
            <dt>{S.dialogs.lastChange}</dt>
            <dd>{S.dialogs.changedBy(formatTime(assembly.updated_at), assembly.updated_by)}</dd>
          </Box>
        </>
      )}
    </ActionDialog>
  );
}
