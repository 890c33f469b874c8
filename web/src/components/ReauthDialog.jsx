// Signing in again over the page when the session ended while it held unsaved work: the
// page (and its edits) stays mounted underneath, and goes on once signed in.
import { useState } from "react";
import Dialog from "@mui/material/Dialog";
import DialogTitle from "@mui/material/DialogTitle";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogActions from "@mui/material/DialogActions";
import TextField from "@mui/material/TextField";
import Button from "@mui/material/Button";
import Alert from "@mui/material/Alert";
import S from "../strings.js";
import { Auth } from "../api.js";

export default function ReauthDialog({ open, username: previous, ended, onSignedIn }) {
  const [username, setUsername] = useState(previous || "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await Auth.login(username, password);
      setPassword("");
      onSignedIn(result);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} maxWidth="xs" fullWidth data-testid="reauth-dialog">
      <form onSubmit={submit}>
        <DialogTitle>{S.drafts.reauthTitle}</DialogTitle>
        <DialogContent>
          <DialogContentText sx={{ mb: 2 }}>
            {S.drafts.reauthText(S.signIn.ended[ended] ? S.signIn.ended[ended].split(". ")[0] + "." : "")}
          </DialogContentText>
          {error && <Alert severity="error" sx={{ mb: 2 }} data-testid="reauth-error">{error}</Alert>}
          <TextField label={S.signIn.username} value={username} onChange={(e) => setUsername(e.target.value)}
            autoComplete="username" fullWidth required margin="dense" autoFocus={!previous} />
          <TextField label={S.signIn.password} type="password" value={password} onChange={(e) => setPassword(e.target.value)}
            autoComplete="current-password" fullWidth required margin="dense" autoFocus={Boolean(previous)} />
        </DialogContent>
        <DialogActions>
          <Button type="submit" variant="contained" disabled={busy || !username || !password} data-testid="reauth-submit">
            {S.signIn.submit}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
