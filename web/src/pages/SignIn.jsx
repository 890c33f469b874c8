import { useEffect, useState } from "react";
import Box from "@mui/material/Box";
import Paper from "@mui/material/Paper";
import Typography from "@mui/material/Typography";
import TextField from "@mui/material/TextField";
import Button from "@mui/material/Button";
import Alert from "@mui/material/Alert";
import IconButton from "@mui/material/IconButton";
import DarkModeIcon from "@mui/icons-material/DarkMode";
import LightModeIcon from "@mui/icons-material/LightMode";
import S from "../strings.js";
import { Auth } from "../api.js";
import SsoSignIn from "../components/SsoSignIn.jsx";

export default function SignIn({ onSignedIn, mode, onToggleMode, ended }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // What the engine offers: password sign-in, single sign-on, or both (null until known).
  const [options, setOptions] = useState(null);
  const [breakGlass, setBreakGlass] = useState(false);

  useEffect(() => {
    let cancelled = false;
    Auth.signInOptions()
      .then((answer) => !cancelled && setOptions(answer))
      .catch(() => !cancelled && setOptions({ password_login: true, sso: null }));
    return () => {
      cancelled = true;
    };
  }, []);

  const passwordForm = !options || options.password_login || breakGlass;

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await Auth.login(username, password));
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };

  return (
    <Box sx={{ minHeight: "100vh", display: "grid", placeItems: "center", p: 2, position: "relative" }}>
      <IconButton
        onClick={onToggleMode}
        sx={{ position: "absolute", top: 12, right: 12 }}
        aria-label={mode === "dark" ? S.topBar.lightTheme : S.topBar.darkTheme}
      >
        {mode === "dark" ? <LightModeIcon /> : <DarkModeIcon />}
      </IconButton>
      <Paper variant="outlined" sx={{ p: 4, width: "100%", maxWidth: 380 }} component="form" onSubmit={submit}>
        <Box sx={{ display: "flex", alignItems: "center", gap: 1.5, mb: 3 }}>
          <Box component="img" src="/favicon.svg" alt="" sx={{ width: 36, height: 36 }} />
          <Box>
            <Typography variant="h5" component="h1" sx={{ fontWeight: 700 }}>
              {S.appName}
            </Typography>
            <Typography variant="body2" color="text.secondary">
              {S.signIn.subtitle}
            </Typography>
          </Box>
        </Box>
        {ended && !error && S.signIn.ended[ended] && (
          <Alert severity="warning" sx={{ mb: 2 }} data-testid="session-ended">
            {S.signIn.ended[ended]}
          </Alert>
        )}
        {error && (
          <Alert severity="error" sx={{ mb: 2 }} data-testid="sign-in-error">
            {error}
          </Alert>
        )}
        <SsoSignIn option={options?.sso} showDivider={passwordForm} />
        {!passwordForm && (
          <Button fullWidth size="small" onClick={() => setBreakGlass(true)} data-testid="break-glass">
            {S.signIn.breakGlass}
          </Button>
        )}
        {passwordForm && options && !options.password_login && (
          <Alert severity="info" sx={{ mb: 1 }}>
            {S.signIn.passwordOff}
          </Alert>
        )}
        {passwordForm && (
          <>
        <TextField
          label={S.signIn.username}
          name="username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          fullWidth
          required
          autoFocus={!options?.sso}
          margin="normal"
        />
        <TextField
          label={S.signIn.password}
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          fullWidth
          required
          margin="normal"
        />
        <Button type="submit" variant={options?.sso ? "outlined" : "contained"} fullWidth size="large" sx={{ mt: 2 }} disabled={busy}>
          {busy ? S.signIn.working : S.signIn.submit}
        </Button>
          </>
        )}
      </Paper>
    </Box>
  );
}
