// API tokens: your own (admins: everyone's), created with a name, scopes and a lifetime.
// The secret comes back once, in the create answer; it is shown with a copy button and is
// gone from the page (and the engine) once the dialog closes.
import { useCallback, useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Checkbox from "@mui/material/Checkbox";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogTitle from "@mui/material/DialogTitle";
import FormControlLabel from "@mui/material/FormControlLabel";
import FormGroup from "@mui/material/FormGroup";
import Paper from "@mui/material/Paper";
import Stack from "@mui/material/Stack";
import Table from "@mui/material/Table";
import TableBody from "@mui/material/TableBody";
import TableCell from "@mui/material/TableCell";
import TableHead from "@mui/material/TableHead";
import TableRow from "@mui/material/TableRow";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { Tokens } from "../api.js";
import { pageTitle } from "../format.js";
import { isAdmin, useSession } from "../session.js";
import S from "../strings.js";

const SCOPES = ["assemblies:read", "assemblies:write", "metrics:read"];

function CreateForm({ onCreated }) {
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState(["assemblies:read"]);
  const [days, setDays] = useState("30");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const toggle = (scope) =>
    setScopes((current) => (current.includes(scope) ? current.filter((s) => s !== scope) : [...current, scope]));

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const made = await Tokens.create(name, scopes, Number.parseInt(days, 10));
      setName("");
      onCreated(made);
    } catch (exc) {
      setError(exc.message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Paper variant="outlined" component="form" onSubmit={submit} sx={{ p: 2 }} data-testid="token-form">
      <Stack spacing={2}>
        <Stack direction={{ xs: "column", sm: "row" }} spacing={2}>
          <TextField
            label={S.tokens.name}
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            size="small"
            slotProps={{ htmlInput: { maxLength: 100, "data-testid": "token-name" } }}
            sx={{ flex: 1 }}
          />
          <TextField
            label={S.tokens.days}
            type="number"
            value={days}
            onChange={(e) => setDays(e.target.value)}
            size="small"
            slotProps={{ htmlInput: { min: 1, "data-testid": "token-days" } }}
            sx={{ width: 180 }}
          />
        </Stack>
        <FormGroup>
          <Typography variant="subtitle2">{S.tokens.scopes}</Typography>
          {SCOPES.map((scope) => (
            <FormControlLabel
              key={scope}
              control={
                <Checkbox
                  checked={scopes.includes(scope)}
                  onChange={() => toggle(scope)}
                  slotProps={{ input: { "data-testid": `scope-${scope}` } }}
                />
              }
              label={`${scope}: ${S.tokens.scopeHelp[scope]}`}
            />
          ))}
        </FormGroup>
        {error && (
          <Alert severity="error" data-testid="token-error">
            {error}
          </Alert>
        )}
        <Box>
          <Button type="submit" variant="contained" disabled={busy || !name.trim()} data-testid="token-create">
            {S.tokens.create}
          </Button>
        </Box>
      </Stack>
    </Paper>
  );
}

function SecretDialog({ token, onClose }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopied(true);
    } catch {
      // no clipboard (plain http, an old browser): the text field can still be selected
      setCopied(false);
    }
  };
  return (
    <Dialog open onClose={onClose} maxWidth="sm" fullWidth data-testid="token-secret-dialog">
      <DialogTitle>{token.name}</DialogTitle>
      <DialogContent>
        <Alert severity="warning" sx={{ mb: 2 }}>
          {S.tokens.created}
        </Alert>
        <TextField
          value={token.token}
          fullWidth
          size="small"
          slotProps={{
            input: { readOnly: true },
            htmlInput: { "data-testid": "token-secret", style: { fontFamily: "monospace" } },
          }}
          onFocus={(e) => e.target.select()}
        />
        {copied && (
          <Typography variant="body2" color="success.main" sx={{ mt: 1 }} data-testid="token-copied">
            {S.tokens.copied}
          </Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={copy} data-testid="token-copy">
          {S.tokens.copy}
        </Button>
        <Button onClick={onClose} variant="contained" data-testid="token-done">
          {S.tokens.done}
        </Button>
      </DialogActions>
    </Dialog>
  );
}

export default function TokensPage() {
  const session = useSession();
  const admin = isAdmin(session);
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [secret, setSecret] = useState(null);

  const load = useCallback(async () => {
    try {
      setItems((await Tokens.list()).items);
      setError(null);
    } catch (exc) {
      setError(exc.message);
    }
  }, []);

  useEffect(() => {
    document.title = pageTitle(S.tokens.title);
    load();
  }, [load]);

  const revoke = async (token) => {
    if (!window.confirm(S.tokens.revokeConfirm(token.name))) return;
    try {
      await Tokens.revoke(token.id);
      session.notify({ severity: "success", text: S.tokens.revoked(token.name) });
    } catch (exc) {
      session.notify({ severity: "error", text: exc.message });
    }
    load();
  };

  return (
    <Stack spacing={2} sx={{ maxWidth: 1100, width: "100%", mx: "auto" }} data-testid="tokens-page">
      <Typography variant="h5" component="h1">
        {S.tokens.title}
      </Typography>
      <Typography variant="body2" color="text.secondary">
        {S.tokens.intro} {admin && S.tokens.adminIntro}
      </Typography>
      <CreateForm
        onCreated={(made) => {
          setSecret(made);
          load();
        }}
      />
      {error && <Alert severity="error">{error}</Alert>}
      {items && items.length === 0 && <Typography color="text.secondary">{S.tokens.none}</Typography>}
      {items && items.length > 0 && (
        <Paper variant="outlined" sx={{ overflowX: "auto" }}>
          <Table size="small" data-testid="tokens-table">
            <TableHead>
              <TableRow>
                <TableCell>{S.tokens.columns.name}</TableCell>
                {admin && <TableCell>{S.tokens.columns.owner}</TableCell>}
                <TableCell>{S.tokens.columns.scopes}</TableCell>
                <TableCell>{S.tokens.columns.expires}</TableCell>
                <TableCell>{S.tokens.columns.lastUsed}</TableCell>
                <TableCell>{S.tokens.columns.status}</TableCell>
                <TableCell />
              </TableRow>
            </TableHead>
            <TableBody>
              {items.map((token) => (
                <TableRow key={token.id} data-testid="token-row" data-token-id={token.id}>
                  <TableCell>{token.name}</TableCell>
                  {admin && <TableCell>{token.owner}</TableCell>}
                  <TableCell>{token.scopes.join(", ")}</TableCell>
                  <TableCell>{token.expires_at}</TableCell>
                  <TableCell>{token.last_used_at || S.tokens.never}</TableCell>
                  <TableCell data-testid="token-status">{token.status}</TableCell>
                  <TableCell align="right">
                    {token.status !== "revoked" && (
                      <Button size="small" color="error" onClick={() => revoke(token)} data-testid="token-revoke">
                        {S.tokens.revoke}
                      </Button>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Paper>
      )}
      {secret && <SecretDialog token={secret} onClose={() => setSecret(null)} />}
    </Stack>
  );
}
