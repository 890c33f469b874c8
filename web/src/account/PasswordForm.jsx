// Change your own password: the current one (the engine re-checks it, throttled like a
// sign-in) and the new one twice. The engine ends the person's other sessions; this one goes on.
import { useState } from "react";
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { Account } from "../api.js";
import { useSession } from "../session.js";
import S from "../strings.js";

const MIN_LENGTH = 8;

export default function PasswordForm({ onChanged }) {
  const session = useSession();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  if (session.user?.sso) return <Alert severity="info" data-testid="password-sso">{S.account.sso}</Alert>;

  const submit = async (event) => {
    event.preventDefault();
    if (next.length < MIN_LENGTH) return setError(S.account.tooShort);
    if (next !== repeat) return setError(S.account.mismatch);
    setBusy(true);
    setError(null);
    try {
      await Account.changePassword(session.user.username, current, next);
      setCurrent("");
      setNext("");
      setRepeat("");
      session.notify({ text: S.account.changed });
      session.refreshWho();
      onChanged?.();
    } catch (exc) {
      setError(exc.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Stack component="form" spacing={2} onSubmit={submit} data-testid="password-form" sx={{ maxWidth: 420 }}>
      {session.mustChangePassword && <Alert severity="warning" data-testid="password-must-change">{S.account.mustChange}</Alert>}
      {/* The username helps password managers file the new password under the right account. */}
      <input type="text" autoComplete="username" value={session.user.username} readOnly hidden />
      <TextField label={S.account.current} type="password" autoComplete="current-password" required value={current}
        onChange={(e) => setCurrent(e.target.value)} slotProps={{ htmlInput: { "data-testid": "password-current" } }} />
      <TextField label={S.account.newPassword} type="password" autoComplete="new-password" required value={next}
        onChange={(e) => setNext(e.target.value)} slotProps={{ htmlInput: { "data-testid": "password-new" } }} />
      <TextField label={S.account.repeat} type="password" autoComplete="new-password" required value={repeat}
        onChange={(e) => setRepeat(e.target.value)} slotProps={{ htmlInput: { "data-testid": "password-repeat" } }} />
      <Typography variant="body2" color="text.secondary">{S.account.rule}</Typography>
      {error && <Alert severity="error" data-testid="password-error">{error}</Alert>}
      <div>
        <Button type="submit" variant="contained" disabled={busy} data-testid="password-submit">
          {busy ? S.account.changing : S.account.change}
        </Button>
      </div>
    </Stack>
  );
}
