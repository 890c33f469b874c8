// Your sign-in sessions (browsers and programs signed in as you): when each started and was
// last active; end one, or every one but this.
import { useCallback, useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Chip from "@mui/material/Chip";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import { Account } from "../api.js";
import { formatTime } from "../format.js";
import { useSession } from "../session.js";
import S from "../strings.js";

function describe(item) {
  return `${S.account.started} ${formatTime(item.created_at)} · ${S.account.lastSeen} ${formatTime(item.last_seen)} · ${S.account.expires} ${formatTime(item.expires_at)}`;
}

export default function SessionsPanel({ reloadKey }) {
  const session = useSession();
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setItems((await Account.sessions()).items);
      setError(null);
    } catch (exc) {
      setError(exc.message);
    }
  }, []);
  useEffect(() => {
    load();
  }, [load, reloadKey]);

  const act = async (run) => {
    setBusy(true);
    try {
      session.notify({ text: await run() });
    } catch (exc) {
      setError(exc.message);
    } finally {
      setBusy(false);
      load();
    }
  };
  const others = (items || []).filter((item) => !item.current).length;

  return (
    <Stack spacing={1} data-testid="sessions-panel">
      <Typography variant="body2" color="text.secondary">{S.account.sessionsIntro}</Typography>
      {error && <Alert severity="error" data-testid="sessions-error">{error}</Alert>}
      <Box sx={{ border: 1, borderColor: "divider", borderRadius: 1 }}>
        {(items || []).map((item) => (
          <Stack key={item.id} direction="row" spacing={1} data-testid="session-row" data-current={item.current ? "true" : "false"}
            sx={{ alignItems: "center", px: 1.5, py: 1, "&:not(:last-of-type)": { borderBottom: 1, borderColor: "divider" } }}>
            <Typography variant="body2" sx={{ flex: 1, minWidth: 0 }}>{describe(item)}</Typography>
            {item.current
              ? <Chip size="small" color="primary" label={S.account.thisSession} />
              : <Button size="small" disabled={busy} data-testid="session-end"
                  onClick={() => act(async () => { await Account.endSession(item.id); return S.account.ended; })}>{S.account.end}</Button>}
          </Stack>
        ))}
      </Box>
      <div>
        {others > 0 ? (
          <Button variant="outlined" disabled={busy} data-testid="sessions-end-others"
            onClick={() => act(async () => S.account.endedOthers((await Account.endOthers()).ended))}>
            {S.account.endOthers}
          </Button>
        ) : items && <Typography variant="body2" data-testid="sessions-only-this">{S.account.onlyThis}</Typography>}
      </div>
    </Stack>
  );
}
