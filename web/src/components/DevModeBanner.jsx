import { useEffect, useState } from "react";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Typography from "@mui/material/Typography";
import WarningAmberIcon from "@mui/icons-material/WarningAmber";
import S from "../strings.js";
import { DevMode } from "../api.js";
import { devModeOn, disableDevMode, useSession } from "../session.js";
import { DEV_MODE_COLOR } from "../theme.js";
import Alert from "@mui/material/Alert";
import { assembliesChanged, devModePrompt } from "../data/signals.js";

export function formatCountdown(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(s / 60);
  return `${minutes}:${String(s % 60).padStart(2, "0")}`;
}

// The orange strip shown while Dev Mode is on: live countdown, Flush queue now, Disable.
export default function DevModeBanner() {
  const session = useSession();
  const on = devModeOn(session);
  const deadline = session.devMode.deadline;
  const [now, setNow] = useState(Date.now());
  const [busy, setBusy] = useState(false);

  // Restart the clock whenever the deadline changes, so the first second shows the real
  // remaining time (not one measured from when the banner first rendered).
  useEffect(() => {
    if (!on) return undefined;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [on, deadline]);

  // Never show more than the engine granted (a render before the clock restarts).
  const remaining = deadline ? Math.min(deadline - now, deadline - session.devMode.receivedAt) / 1000 : 0;
  const { refreshDevMode, notify } = session;
  const over = on && remaining <= 0;
  useEffect(() => {
    if (!over) return;
    notify({ text: S.devMode.expired, severity: "warning" });
    refreshDevMode();
  }, [over, refreshDevMode, notify]);
  // The last minute: say so, with a way to extend (the password prompt again).
  const ending = on && remaining > 0 && remaining <= 60;

  if (!on) return null;

  const flush = async () => {
    setBusy(true);
    try {
      const result = await DevMode.flush();
      const count = Object.values(result.results || {}).reduce((sum, r) => sum + (r.persisted || 0), 0);
      session.notify({ text: S.devMode.flushed(count) });
      assembliesChanged.emit();
    } catch (error) {
      session.notify({ text: error.message, severity: "error" });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
    <Box
      role="status"
      data-testid="dev-mode-banner"
      sx={{ bgcolor: DEV_MODE_COLOR, color: "#fff", px: { xs: 1, sm: 3 }, py: 0.75, display: "flex", alignItems: "center", gap: { xs: 1, sm: 2 }, whiteSpace: "nowrap" }}
    >
      <WarningAmberIcon fontSize="small" />
      <Typography variant="body2" noWrap sx={{ fontWeight: 600, flex: 1, minWidth: 0 }}>
        <Box component="span" sx={{ display: { xs: "none", md: "inline" } }}>{S.devMode.banner} {S.devMode.endsIn} </Box>
        <Box component="span" sx={{ display: { xs: "inline", md: "none" } }}>{S.devMode.short} </Box>
        <Box component="span" data-testid="dev-mode-countdown" sx={{ fontVariantNumeric: "tabular-nums" }}>
          {formatCountdown(remaining)}
        </Box>
      </Typography>
      <Button size="small" variant="contained" color="inherit" onClick={flush} disabled={busy} aria-label={S.devMode.flush}
        sx={{ color: DEV_MODE_COLOR, bgcolor: "#fff", "&:hover": { bgcolor: "#fff3e0" }, flexShrink: 0 }}>
        <Box component="span" sx={{ display: { xs: "none", sm: "inline" } }}>{S.devMode.flush}</Box>
        <Box component="span" sx={{ display: { xs: "inline", sm: "none" } }}>{S.devMode.flushShort}</Box>
      </Button>
      <Button size="small" variant="outlined" color="inherit" onClick={() => disableDevMode(session)} aria-label={S.devMode.disable} sx={{ flexShrink: 0 }}>
        <Box component="span" sx={{ display: { xs: "none", sm: "inline" } }}>{S.devMode.disable}</Box>
        <Box component="span" sx={{ display: { xs: "inline", sm: "none" } }}>{S.devMode.disableShort}</Box>
      </Button>
    </Box>
    {ending && (
      <Alert severity="warning" data-testid="dev-mode-ending" sx={{ borderRadius: 0 }}
        action={<Button color="inherit" size="small" onClick={() => devModePrompt.emit()} data-testid="dev-mode-extend">{S.devMode.extend}</Button>}>
        {S.devMode.endingSoon}
      </Alert>
    )}
    </>
  );
}
