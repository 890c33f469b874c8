import { useEffect, useState } from "react";
import FormControlLabel from "@mui/material/FormControlLabel";
import Switch from "@mui/material/Switch";
import Dialog from "@mui/material/Dialog";
import DialogTitle from "@mui/material/DialogTitle";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogActions from "@mui/material/DialogActions";
import TextField from "@mui/material/TextField";
import Button from "@mui/material/Button";
import Alert from "@mui/material/Alert";
import S from "../strings.js";
import { DevMode } from "../api.js";
import { disableDevMode, useSession } from "../session.js";
import { devModePrompt } from "../data/signals.js";

// Admins only (the caller does not render it for operators): the switch and its prompt.
export default function DevModeToggle() {
  const session = useSession();
  const on = Boolean(session.devMode.enabled);
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => devModePrompt.subscribe(() => setOpen(true)), []);

  const close = () => {
    setOpen(false);
    setPassword("");
    setReason("");
    setError(null);
  };

  // A single sign-on account has no password: the provider confirms who they are.
  const sso = Boolean(session.user?.sso);

  const enable = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (sso) {
        const { url } = await DevMode.reauthenticate(reason);
        window.location.assign(url);
        return;
      }
      session.setDevMode(await DevMode.enable(password, reason));
      close();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <FormControlLabel
        control={
          <Switch
            checked={on}
            color="warning"
            onChange={() => (on ? disableDevMode(session) : setOpen(true))}
            slotProps={{ input: { "data-testid": "dev-mode-switch", "aria-label": S.devMode.toggle } }}
          />
        }
        label={S.devMode.toggle}
        sx={{ mr: { xs: 0, sm: 2 }, "& .MuiFormControlLabel-label": { whiteSpace: "nowrap", fontSize: { xs: 13, sm: 14 } } }}
        data-testid="dev-mode-toggle"
      />
      <Dialog open={open} onClose={close} maxWidth="xs" fullWidth>
        <form onSubmit={enable}>
          <DialogTitle>{S.devMode.dialogTitle}</DialogTitle>
          <DialogContent>
            <DialogContentText sx={{ mb: 2 }}>{sso ? S.devMode.ssoText : S.devMode.dialogText}</DialogContentText>
            {error && (
              <Alert severity="error" sx={{ mb: 2 }} data-testid="dev-mode-error">
                {error}
              </Alert>
            )}
            {!sso && (
            <TextField
              label={S.devMode.password}
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              fullWidth
              required
              autoFocus
              margin="dense"
              name="dev-mode-password"
            />
            )}
            <TextField
              label={S.devMode.reason}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              fullWidth
              required
              autoFocus={sso}
              margin="dense"
              name="dev-mode-reason"
            />
          </DialogContent>
          <DialogActions>
            <Button onClick={close}>{S.dialogs.cancel}</Button>
            <Button type="submit" variant="contained" color="warning" disabled={busy || (!sso && !password) || !reason.trim()}>
              {sso ? S.devMode.ssoContinue : S.devMode.enable}
            </Button>
          </DialogActions>
        </form>
      </Dialog>
    </>
  );
}
