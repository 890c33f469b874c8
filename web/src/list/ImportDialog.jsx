// The list's Import: choose or drop files (or a folder), see the engine's dry run for each
// (what it would create, or why not), then import them in one batch.
import { useState } from "react";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Dialog from "@mui/material/Dialog";
import DialogActions from "@mui/material/DialogActions";
import DialogContent from "@mui/material/DialogContent";
import DialogContentText from "@mui/material/DialogContentText";
import DialogTitle from "@mui/material/DialogTitle";
import MenuItem from "@mui/material/MenuItem";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import S from "../strings.js";
import { useSession, writableDomains } from "../session.js";
import { documentsOf, importBatch } from "../data/importFiles.js";
import { assembliesChanged } from "../data/signals.js";

function Row({ label, result }) {
  const ok = result.status !== "failed";
  const what = ok && result.would_create ? `${S.kinds[result.would_create.assembly_kind] || ""} · ${result.would_create.category || S.list.noCategory}` : result.message;
  return (
    <Box component="li" data-testid="import-row" data-status={result.status} sx={{ py: 0.5, borderBottom: 1, borderColor: "divider", listStyle: "none" }}>
      <Typography variant="body2" sx={{ fontWeight: 600, overflowWrap: "anywhere" }}>
        {ok ? "✓" : "✗"} {ok && result.would_create ? result.would_create.display_name : label}
      </Typography>
      <Typography variant="caption" color={ok ? "text.secondary" : "error"}>{what}</Typography>
    </Box>
  );
}

export default function ImportDialog({ open, onClose }) {
  const session = useSession();
  const domains = writableDomains(session);
  const [domain, setDomain] = useState("user");
  const [documents, setDocuments] = useState(null);
  const [results, setResults] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  const reset = () => {
    setDocuments(null);
    setResults(null);
    setError(null);
    setBusy(false);
  };
  const close = () => {
    reset();
    onClose();
  };

  const check = async (fileList, target = domain) => {
    const files = [...fileList];
    if (!files.length) return;
    setBusy(true);
    setError(null);
    try {
      const { documents: found, missing } = await documentsOf(files);
      const checked = found.length ? await importBatch(found, target, true) : [];
      setDocuments(found);
      setResults([...checked.map((r, i) => ({ label: found[i].label, result: r })), ...missing.map((m) => ({ label: m.label, result: { status: "failed", message: m.message } }))]);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };

  const submit = async () => {
    const valid = documents.filter((_, i) => results[i].result.status === "valid");
    setBusy(true);
    setError(null);
    try {
      const done = await importBatch(valid, domain, false);
      const imported = done.filter((r) => r.status !== "failed").length;
      assembliesChanged.emit();
      session.notify({ text: S.importer.done(imported, results.length - imported) });
      close();
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };

  const validCount = results ? results.filter((r) => r.result.status === "valid").length : 0;
  const pick = (event) => {
    const files = event.target.files;
    check(files);
    event.target.value = "";
  };
  return (
    <Dialog open={open} onClose={close} maxWidth="sm" fullWidth data-testid="import-dialog">
      <DialogTitle>{S.importer.title}</DialogTitle>
      <DialogContent>
        <DialogContentText sx={{ mb: 2 }}>{S.importer.text}</DialogContentText>
        {error && <Alert severity="error" sx={{ mb: 2 }} data-testid="import-error">{error}</Alert>}
        <Stack direction={{ xs: "column", sm: "row" }} spacing={1} sx={{ mb: 2, alignItems: { sm: "center" } }}>
          {domains.length > 1 && (
            <TextField select size="small" label={S.importer.domain} value={domain} sx={{ minWidth: 160 }}
              onChange={(e) => { setDomain(e.target.value); reset(); }}>
              {domains.map((d) => <MenuItem key={d} value={d}>{S.domains[d]}</MenuItem>)}
            </TextField>
          )}
          <Button variant="outlined" component="label" disabled={busy}>
            {S.importer.chooseFiles}
            <input hidden multiple type="file" onChange={pick} data-testid="import-files" />
          </Button>
          <Button variant="outlined" component="label" disabled={busy}>
            {S.importer.chooseFolder}
            <input hidden type="file" webkitdirectory="" onChange={pick} data-testid="import-folder" />
          </Button>
        </Stack>
        <Box
          data-testid="import-drop"
          onDragOver={(e) => e.preventDefault()}
          onDrop={(e) => { e.preventDefault(); check(e.dataTransfer.files); }}
          sx={{ border: 2, borderStyle: "dashed", borderColor: "divider", borderRadius: 1, p: 2, textAlign: "center", color: "text.secondary", mb: 2 }}
        >
          {busy ? S.importer.checking : S.importer.drop}
        </Box>
        {results && (
          <>
            <Typography variant="body2" sx={{ mb: 1 }} data-testid="import-summary">
              {S.importer.summary(validCount, results.length - validCount)}
            </Typography>
            <Box component="ul" sx={{ m: 0, p: 0, maxHeight: 320, overflow: "auto" }}>
              {results.map((r, i) => <Row key={i} label={r.label} result={r.result} />)}
            </Box>
          </>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={close}>{S.dialogs.cancel}</Button>
        <Button variant="contained" onClick={submit} disabled={busy || !validCount} data-testid="import-submit">
          {S.importer.submit(validCount)}
        </Button>
      </DialogActions>
    </Dialog>
  );
}
