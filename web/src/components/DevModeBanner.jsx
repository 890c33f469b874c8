import { useEffect, useState } from "react";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Typography from "@mui/material/Typography";
import WarningAmberIcon from "@mui/icons-material/WarningAmber";
import S from "../strings.js";
import { DevMode } from "../api.js";
import { devModeOn, useSession } from "../session.js";
import { DEV_MODE_COLOR } from "../theme.js";

export function formatCountdown(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(s / 60);
  return `${minutes}:${String(s % 60).padStart(2, "0")}`;
}

export const QUEUE_CHANGED = "ae:queue-changed";

// The orange strip shown while Dev Mode is on: live countdown, Flush queue now, Disable.
export default function DevModeBanner() {
  const session = useSession();
  const on = devModeOn(session);
  const deadline = session.devMode.deadline;
  const [now, setNow] = useState(Date.now());
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!on) return undefined;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [on]);

  const remaining = deadline ? (deadline - now) / 1000 : 0;
  const { refreshDevMode } = session;
  useEffect(() => {
    if (on && remaining <= 0) refreshDevMode();
  }, [on, remaining <= 0, refreshDevMode]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!on) return null;

  const flush = async () => {
    setBusy(true);
    try {
      const result = await DevMode.flush();
      const count = Object.values(result.results || {}).reduce((sum, r) => sum + (r.persisted || 0), 0);
      session.notify({ text: S.devMode.flushed(count) });
      window.dispatchEvent(new Event(QUEUE_CHANGED));
    } catch (error) {
      session.notify({ text: error.message, severity: "error" });
    } finally {
      setBusy(false);
    }
  };

  const disable = async () => {
    try {
      session.setDevMode(await DevMode.disable());
      session.notify({ text: S.devMode.disabled, severity: "info" });
    } catch (error) {
      session.notify({ text: error.message, severity: "error" });
    }
  };

  return (
    <Box
      role="status"
      data-testid="dev-mode-banner"
      sx={{ bgcolor: DEV_MODE_COLOR, color: "#fff", px: 3, py: 0.75, display: "flex", alignItems: "center", gap: 2 }}
    >
      <WarningAmberIcon fontSize="small" />
      <Typography variant="body2" sx={{ fontWeight: 600, flex: 1 }}>
        {S.devMode.banner} {S.devMode.endsIn}{" "}
        <Box component="span" data-testid="dev-mode-countdown" sx={{ fontVariantNumeric: "tabular-nums" }}>
          {formatCountdown(remaining)}
        </Box>
      </Typography>
      <Button size="small" variant="contained" color="inherit" onClick={flush} disabled={busy}
        sx={{ color: DEV_MODE_COLOR, bgcolor: "#fff", "&:hover": { bgcolor: "#fff3e0" } }}>
        {S.devMode.flush}
      </Button>
      <Button size="small" variant="outlined" color="inherit" onClick={disable}>
        {S.devMode.disable}
      </Button>
    </Box>
  );
}
