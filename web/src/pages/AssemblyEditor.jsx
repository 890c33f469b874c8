import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import Box from "@mui/material/Box";
import Paper from "@mui/material/Paper";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import TextField from "@mui/material/TextField";
import MenuItem from "@mui/material/MenuItem";
import Button from "@mui/material/Button";
import Menu from "@mui/material/Menu";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Alert from "@mui/material/Alert";
import Chip from "@mui/material/Chip";
import CircularProgress from "@mui/material/CircularProgress";
import ToggleButton from "@mui/material/ToggleButton";
import ToggleButtonGroup from "@mui/material/ToggleButtonGroup";
import ArrowBackIcon from "@mui/icons-material/ArrowBack";
import SaveIcon from "@mui/icons-material/Save";
import ImportExportIcon from "@mui/icons-material/ImportExport";
import FileDownloadIcon from "@mui/icons-material/FileDownload";
import FileUploadIcon from "@mui/icons-material/FileUpload";
import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import LockOpenIcon from "@mui/icons-material/LockOpen";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { listUrl, navigate, useLeaveGuard } from "../router.js";
import { OPEN_DEV_MODE, devModeOn, isAdmin, mayWrite, useSession, writableDomains } from "../session.js";
import { TYPES_BY_KIND, changesOf, createBody, fileBase64, formFromRecord, newForm, parseWorkflow, same } from "../assemblyForm.js";
import DomainBadge from "../components/DomainBadge.jsx";
import DirtyPill from "../components/DirtyPill.jsx";
import CodeEditor from "../editor/CodeEditor.jsx";
import ProblemsPanel, { CheckCount } from "../editor/ProblemsPanel.jsx";
import WorkflowPreview from "../editor/WorkflowPreview.jsx";
import VariablesTable from "../editor/VariablesTable.jsx";
import FilesPanel from "../editor/FilesPanel.jsx";
import ReadOnlyField from "../editor/ReadOnlyField.jsx";
import SitesField from "../editor/SitesField.jsx";
import { variableProblems } from "../editor/VariablesTable.jsx";
import HistoryPanel from "../editor/HistoryPanel.jsx";
import UpstreamChoice from "../editor/UpstreamChoice.jsx";
import ConflictDialog from "../editor/ConflictDialog.jsx";
import { CloneDialog } from "../components/Dialogs.jsx";
import { formatTime, pageTitle } from "../format.js";

const POLL_MS = 2000;

function Section({ title, children, testId }) {
  return (
    <Paper variant="outlined" sx={{ p: 2.5 }} data-testid={testId}>
      <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 700, mb: 1.5 }}>
        {title}
      </Typography>
      {children}
    </Paper>
  );
}

function validate(form) {
  if (!form.display_name.trim()) return S.editor.nameRequired;
  if (form.assembly_kind !== "workflow") {
    const problems = Object.values(variableProblems(form.variables));
    if (problems.length) return problems[0];
  }
  if (form.assembly_kind !== "workflow" && String(form.timeout_seconds).trim() !== "" && !/^\d+$/.test(String(form.timeout_seconds).trim())) {
    return S.editor.timeoutInvalid;
  }
  if (form.assembly_kind === "workflow" && !parseWorkflow(form.workflowText)) return S.editor.invalidWorkflow;
  return null;
}

// The bar under the top bar that stays in view while scrolling: back, title and state,
// Import/Export and Save.
function ActionBar({ children }) {
  return (
    <Paper
      elevation={0}
      data-testid="action-bar"
      sx={{
        position: "sticky",
        top: 48, // the dense top bar
        zIndex: (theme) => theme.zIndex.appBar - 1,
        px: { xs: 1, md: 2 },
        py: 1,
        mx: { xs: -1.5, md: -3 },
        borderBottom: 1,
        borderColor: "divider",
        borderRadius: 0,
        bgcolor: "background.default",
      }}
    >
      <Stack direction="row" spacing={1.5} sx={{ alignItems: "center", flexWrap: { xs: "wrap", md: "nowrap" }, rowGap: 1, maxWidth: 1400, mx: "auto" }}>
        {children}
      </Stack>
    </Paper>
  );
}

export default function AssemblyEditor({ guid, kind }) {
  const session = useSession();
  const { notify } = session;
  const [record, setRecord] = useState(null);
  const [form, setForm] = useState(() => (guid ? null : { ...newForm(TYPES_BY_KIND[kind] ? kind : "script"), domain: "user" }));
  const [baseline, setBaseline] = useState(form);
  // A document loaded into the form: {documentBase64, fileName, form}. Until it is saved
  // the form is unsaved work, even if it was not edited after the import.
  const [imported, setImported] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [error, setError] = useState(null);
  // A stale save: {theirs} (the record now stored) while the user decides; open = dialog shown.
  const [conflict, setConflict] = useState(null);
  const [conflictOpen, setConflictOpen] = useState(false);
  const [copying, setCopying] = useState(null);
  const [saving, setSaving] = useState(false);
  const [ioMenu, setIoMenu] = useState(null);
  const [cloning, setCloning] = useState(null);
  const [showProblems, setShowProblems] = useState(false);
  // The last script check of the editor's text (Docs/script-checks.md), for the problems
  // list and the count beside Save.
  const [checks, setChecks] = useState(null);
  const fileInput = useRef(null);
  const saveRef = useRef(null);

  const load = useCallback(async () => {
    if (!guid) return;
    try {
      const loaded = await Assemblies.get(guid);
      const next = formFromRecord(loaded);
      setRecord(loaded);
      setForm(next);
      setBaseline(next);
      setImported(null);
      setConflict(null);
      setConflictOpen(false);
      setError(null);
      setShowProblems(false);
    } catch (err) {
      setLoadError(err.status === 404 ? S.editor.notFound : err.message);
    }
  }, [guid]);

  useEffect(() => {
    load();
  }, [load]);

  // Keep the queue status of the header current until the change is persisted.
  const dirty = Boolean(record?.is_dirty);
  useEffect(() => {
    if (!dirty || !record) return undefined;
    const timer = window.setInterval(async () => {
      try {
        const latest = await Assemblies.get(record.assembly_guid);
        setRecord((current) =>
          current && current.assembly_guid === latest.assembly_guid
            ? { ...current, is_dirty: latest.is_dirty, dirty_since: latest.dirty_since, last_persisted: latest.last_persisted }
            : current,
        );
      } catch {
        // a missed poll is harmless; the next one tries again
      }
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [dirty, record?.assembly_guid]); // eslint-disable-line react-hooks/exhaustive-deps

  // Dev Mode switched off while a new form targets official/community: back to User-Created.
  const allowed = writableDomains(session);
  useEffect(() => {
    if (!record && form && !allowed.includes(form.domain)) setForm((f) => ({ ...f, domain: "user" }));
  }, [record, form, allowed]);

  const touched = useMemo(() => Boolean(imported) || !same(form, baseline), [form, baseline, imported]);

  // Every way out with unsaved edits asks: in-app navigation (links, the logo, Back and
  // Forward, sign-out) through the router's guard, closing or reloading the tab here.
  useLeaveGuard(() => (touched ? S.editor.unsavedPrompt : null));
  useEffect(() => {
    if (!touched) return undefined;
    const warn = (event) => {
      event.preventDefault();
      event.returnValue = ""; // older browsers need it set to show their prompt
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [touched]);

  // Ctrl+S / Cmd+S saves (instead of the browser's "Save page as").
  useEffect(() => {
    const onKey = (event) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        saveRef.current?.();
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, []);

  const title = record ? record.display_name : form ? S.editor.newTitle(S.kinds[form.assembly_kind]) : null;
  useEffect(() => {
    document.title = pageTitle(title ? `${touched ? "• " : ""}${title}` : S.editor.loadingTitle);
  }, [title, touched]);

  if (loadError) {
    return (
      <Stack spacing={2}>
        <Alert severity="error">{loadError}</Alert>
        <Button startIcon={<ArrowBackIcon />} onClick={() => navigate(listUrl())} sx={{ alignSelf: "flex-start" }}>
          {S.editor.back}
        </Button>
      </Stack>
    );
  }
  if (!form) {
    return (
      <Box sx={{ display: "grid", placeItems: "center", p: 6 }}>
        <CircularProgress />
      </Box>
    );
  }

  const isNew = !record;
  const readOnly = !mayWrite(session, form.domain);
  const set = (key) => (value) => setForm((f) => ({ ...f, [key]: value }));
  const onInput = (key) => (event) => set(key)(event.target.value);
  const kindLabel = S.kinds[form.assembly_kind];
  const problems = showProblems && form.assembly_kind !== "workflow" ? variableProblems(form.variables) : {};
  const canSave = !readOnly && !saving && (isNew || touched);

  const save = async () => {
    if (!canSave) return;
    const problem = validate(form);
    if (problem) {
      setShowProblems(true);
      setError(problem);
      // Take the user (and the keyboard focus) to the first row to fix.
      window.requestAnimationFrame(() => document.querySelector('[data-invalid="true"] input')?.focus());
      return;
    }
    setSaving(true);
    setError(null);
    try {
      if (isNew) {
        let created;
        if (imported && same(form, imported.form)) {
          created = await Assemblies.importDocument(imported.documentBase64, form.domain, imported.fileName);
        } else {
          created = await Assemblies.create(createBody(form, form.domain));
        }
        setBaseline(form);
        setImported(null);
        notify({ text: S.editor.saved });
        navigate(`/assemblies/${created.assembly_guid}`, { replace: true, force: true });
        return;
      }
      const changes = changesOf(form, baseline);
      if (Object.keys(changes).length) {
        await Assemblies.update(record.assembly_guid, changes, record.revision);
      }
      notify({ text: S.editor.saved });
      await load();
    } catch (err) {
      if (err.status === 409 && err.code === "conflict") await showConflict();
      else setError(err.message);
    } finally {
      setSaving(false);
    }
  };
  saveRef.current = save;

  // Fetch what is stored now and put it next to the user's edits.
  const showConflict = async () => {
    try {
      setConflict({ theirs: await Assemblies.get(record.assembly_guid) });
      setConflictOpen(true);
    } catch (err) {
      setError(err.status === 404 ? S.editor.notFound : err.message);
    }
  };

  // "Overwrite with mine": the form as it is becomes the next revision after theirs.
  const overwrite = async () => {
    const { theirs } = conflict;
    const changes = changesOf(form, formFromRecord(theirs));
    try {
      if (Object.keys(changes).length) await Assemblies.update(record.assembly_guid, changes, theirs.revision);
    } catch (err) {
      if (err.status === 409 && err.code === "conflict") {
        await showConflict();
        throw new Error(S.conflict.again);
      }
      throw err;
    }
    notify({ text: S.editor.saved });
    await load();
  };

  // "Save mine as a new copy": clone what is stored, then give the copy the user's edits.
  const saveCopy = async (assembly, target, name) => {
    const copy = await Assemblies.clone(record.assembly_guid, target, name);
    const changes = changesOf({ ...form, display_name: name }, formFromRecord(copy));
    const saved = Object.keys(changes).length ? await Assemblies.update(copy.assembly_guid, changes, copy.revision) : copy;
    setCopying(null);
    setBaseline(form); // the edits are saved (in the copy): leaving asks nothing
    notify({ text: S.conflict.copied(saved.display_name) });
    navigate(`/assemblies/${saved.assembly_guid}`, { force: true });
  };

  const importFile = async (event) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    try {
      // The engine parses the file (dry run: nothing is created) and answers what it would
      // create; the form shows that as a NEW assembly (new GUID on save).
      const documentBase64 = await fileBase64(file);
      const { would_create: preview } = await Assemblies.previewImport(documentBase64, "user", file.name);
      const parsed = formFromRecord(preview);
      const next = { ...parsed, domain: "user", files: (preview.payload.files || []).map((f) => ({ ...f })) };
      setRecord(null);
      setForm(next);
      setBaseline(next);
      setImported({ documentBase64, fileName: file.name, form: next });
      setConflict(null);
      setError(null);
      setShowProblems(false);
      window.history.replaceState(window.history.state, "", `/assemblies/new/${next.assembly_kind}`);
      notify({ text: S.editor.imported(next.display_name), severity: "info" });
    } catch (err) {
      const refused = err.status === 422 && ["invalid_document", "not_an_assembly"].includes(err.code);
      setError(refused ? S.editor.importInvalid(err.message) : err.message);
    }
  };

  const exportJson = async () => {
    setIoMenu(null);
    if (!record) {
      setError(S.editor.exportNeedsSave);
      return;
    }
    try {
      await Assemblies.exportFile(record.assembly_guid, record.display_name);
    } catch (err) {
      setError(err.message);
    }
  };

  const doClone = async (assembly, target, name) => {
    const created = await Assemblies.clone(assembly.assembly_guid, target, name);
    setCloning(null);
    notify({ text: S.list.cloned(created.display_name, S.domains[target]) });
    navigate(`/assemblies/${created.assembly_guid}`, { force: true });
  };

  const workflow = form.assembly_kind === "workflow" ? parseWorkflow(form.workflowText) : null;
  const status = record
    ? `${record.is_dirty
      ? S.editor.dirtySince(formatTime(record.dirty_since))
      : record.last_persisted
        ? S.editor.lastPersisted(formatTime(record.last_persisted))
        : S.editor.neverPersisted} · ${S.editor.revision(record.revision)}`
    : null;

  // Library as code: where a synced assembly came from (metadata.sync, Docs/library-as-code.md).
  const syncNote = record?.metadata?.sync;
  const synced = syncNote && typeof syncNote === "object" && syncNote.source
    ? S.editor.syncedFrom(String(syncNote.source), String(syncNote.path ?? ""), syncNote.commit ? String(syncNote.commit) : null)
    : null;

  return (
    <Stack spacing={2} sx={{ maxWidth: 1400, width: "100%", mx: "auto", mt: { xs: -1.5, md: -3 } }} data-testid="assembly-editor">
      <ActionBar>
        <Button startIcon={<ArrowBackIcon />} onClick={() => navigate(listUrl())} sx={{ flexShrink: 0 }} aria-label={S.editor.back}>
          <Box component="span" sx={{ display: { xs: "none", sm: "inline" } }}>{S.editor.back}</Box>
        </Button>
        <Box sx={{ minWidth: 0, flex: { xs: "1 1 0", md: "1 1 auto" } }}>
          <Stack direction="row" sx={{ alignItems: "center", minWidth: 0, gap: 1, flexWrap: { xs: "wrap", md: "nowrap" } }}>
            <Typography variant="h6" component="h1" noWrap sx={{ fontWeight: 700, minWidth: 0, flex: { xs: "1 0 100%", md: "0 1 auto" } }} data-testid="editor-title" title={title}>
              {title}
            </Typography>
            <DomainBadge domain={form.domain} />
            {isNew && <Chip size="small" label={S.editor.newBadge} variant="outlined" data-testid="new-badge" />}
            {record?.is_dirty && <DirtyPill />}
            {touched && !readOnly && (
              <Chip size="small" color="warning" variant="outlined" label={S.editor.unsavedBadge} data-testid="unsaved-badge" />
            )}
          </Stack>
          {status && (
            <Typography variant="caption" color="text.secondary" noWrap component="div" data-testid="persist-status">
              {status}
            </Typography>
          )}
          {synced && (
            <Typography variant="caption" color="text.secondary" noWrap component="div" data-testid="sync-origin" title={synced}>
              {synced}
            </Typography>
          )}
        </Box>
        <Stack direction="row" spacing={1} sx={{ flexShrink: 0, ml: "auto", width: { xs: "100%", md: "auto" }, justifyContent: "flex-end" }}>
          <Button variant="outlined" startIcon={<ImportExportIcon />} onClick={(e) => setIoMenu(e.currentTarget)} data-testid="import-export" sx={{ whiteSpace: "nowrap" }}>
            {S.editor.importExport}
          </Button>
          {!readOnly && <Box sx={{ alignSelf: "center" }}><CheckCount checks={checks} /></Box>}
          {!readOnly && (
            <Button variant="contained" startIcon={<SaveIcon />} onClick={save} disabled={!canSave} data-testid="save"
              title={S.editor.saveShortcut} sx={{ whiteSpace: "nowrap" }}>
              {saving ? S.editor.saving : S.editor.save}
            </Button>
          )}
        </Stack>
        <Menu anchorEl={ioMenu} open={Boolean(ioMenu)} onClose={() => setIoMenu(null)}>
          <MenuItem onClick={exportJson} disabled={isNew} data-testid="export-json">
            <ListItemIcon><FileDownloadIcon fontSize="small" /></ListItemIcon>
            <ListItemText>{S.editor.exportJson}</ListItemText>
          </MenuItem>
          <MenuItem
            data-testid="import-json"
            onClick={() => {
              setIoMenu(null);
              fileInput.current?.click();
            }}
          >
            <ListItemIcon><FileUploadIcon fontSize="small" /></ListItemIcon>
            <ListItemText>{S.editor.importJson}</ListItemText>
          </MenuItem>
        </Menu>
        <input ref={fileInput} type="file" accept=".json,.yml,.yaml,.ps1,.bat,.cmd,.sh,.py,application/json" hidden onChange={importFile} data-testid="import-input" />
      </ActionBar>

      {readOnly && !isNew && (
        <Alert
          severity="warning"
          data-testid="read-only-banner"
          sx={{
            flexWrap: { xs: "wrap", sm: "nowrap" },
            "& .MuiAlert-action": { ml: { xs: 0, sm: "auto" }, pl: { xs: 0, sm: 2 }, width: { xs: "100%", sm: "auto" } },
          }}
          action={
            <Stack direction={{ xs: "column", sm: "row" }} spacing={1}>
              <Button color="inherit" size="small" startIcon={<ContentCopyIcon />} onClick={() => setCloning(record)} data-testid="clone-to-user" sx={{ whiteSpace: "nowrap" }}>
                {S.editor.cloneToUser}
              </Button>
              {isAdmin(session) && (
                <Button color="inherit" size="small" variant="outlined" startIcon={<LockOpenIcon />} data-testid="enable-dev-mode" sx={{ whiteSpace: "nowrap" }}
                  onClick={() => window.dispatchEvent(new Event(OPEN_DEV_MODE))}>
                  {S.editor.enableDevMode}
                </Button>
              )}
            </Stack>
          }
        >
          {S.editor.readOnlyBanner}
        </Alert>
      )}
      <UpstreamChoice record={record} onError={setError} onResolved={(text) => { notify({ text }); load(); }} />
      {conflict && (
        <Alert
          severity="error"
          data-testid="conflict-message"
          action={
            <Button color="inherit" size="small" onClick={() => setConflictOpen(true)} data-testid="conflict-resolve" sx={{ whiteSpace: "nowrap" }}>
              {S.editor.resolveConflict}
            </Button>
          }
        >
          {S.editor.conflict}
        </Alert>
      )}
      {error && (
        <Alert severity="error" onClose={() => setError(null)} data-testid="editor-error">
          {error}
        </Alert>
      )}

      <Section title={S.editor.details} testId="details">
        {readOnly ? (
          <Box sx={{ display: "grid", gap: 2, gridTemplateColumns: { xs: "1fr", md: "2fr 1fr 1fr" } }} data-testid="read-only-details">
            <ReadOnlyField label={S.editor.name} value={form.display_name} testId="text-name" />
            <ReadOnlyField label={S.editor.type} value={S.types[form.assembly_type] || form.assembly_type} testId="text-type" />
            <ReadOnlyField label={S.editor.category} value={form.category} testId="text-category" />
            <ReadOnlyField label={S.editor.description} value={form.summary} testId="text-description" sx={{ gridColumn: { md: "1 / span 3" } }} />
            {form.assembly_kind !== "workflow" && (
              <>
                <ReadOnlyField label={S.editor.timeout} value={form.timeout_seconds} testId="text-timeout" />
                <ReadOnlyField
                  label={S.editor.sites}
                  testId="text-sites"
                  value={form.sites.mode === "specific" ? form.sites.values.join(", ") : S.editor.sitesAll}
                  sx={{ gridColumn: { md: "2 / span 2" } }}
                />
              </>
            )}
          </Box>
        ) : (
          <Box sx={{ display: "grid", gap: 2, gridTemplateColumns: { xs: "1fr", md: "2fr 1fr 1fr" } }}>
            <TextField label={S.editor.name} value={form.display_name} onChange={onInput("display_name")} required autoFocus={isNew}
              slotProps={{ htmlInput: { "data-testid": "field-name", maxLength: 200 } }} />
            <TextField select label={S.editor.type} value={form.assembly_type} onChange={onInput("assembly_type")} disabled={TYPES_BY_KIND[form.assembly_kind].length < 2}
              slotProps={{ select: { SelectDisplayProps: { "data-testid": "field-type" } } }}>
              {TYPES_BY_KIND[form.assembly_kind].map((t) => (
                <MenuItem key={t} value={t} data-testid={`type-${t}`}>
                  {S.types[t]}
                </MenuItem>
              ))}
            </TextField>
            <TextField label={S.editor.category} value={form.category} onChange={onInput("category")}
              slotProps={{ htmlInput: { "data-testid": "field-category", maxLength: 200 } }} />
            <TextField label={S.editor.description} value={form.summary} onChange={onInput("summary")} multiline minRows={2}
              sx={{ gridColumn: { md: "1 / span 2" } }} slotProps={{ htmlInput: { "data-testid": "field-description" } }} />
            {isNew && devModeOn(session) ? (
              <TextField select label={S.editor.domain} value={form.domain} onChange={onInput("domain")}
                slotProps={{ select: { SelectDisplayProps: { "data-testid": "field-domain" } } }}>
                {allowed.map((d) => (
                  <MenuItem key={d} value={d} data-testid={`domain-${d}`}>
                    {S.domains[d]}
                  </MenuItem>
                ))}
              </TextField>
            ) : (
              <Box sx={{ display: { xs: "none", md: "block" } }} />
            )}
            {form.assembly_kind !== "workflow" && (
              <>
                <TextField label={S.editor.timeout} value={form.timeout_seconds} onChange={onInput("timeout_seconds")}
                  slotProps={{ htmlInput: { inputMode: "numeric", "data-testid": "field-timeout" } }} />
                <Stack direction="row" spacing={1.5} sx={{ alignItems: "center", flexWrap: "wrap", rowGap: 1, gridColumn: { md: "2 / span 2" } }}>
                  <Typography variant="body2" color="text.secondary">{S.editor.sites}</Typography>
                  <ToggleButtonGroup
                    size="small"
                    exclusive
                    value={form.sites.mode}
                    onChange={(_, mode) => mode && set("sites")({ ...form.sites, mode })}
                  >
                    <ToggleButton value="all" data-testid="sites-all">{S.editor.sitesAll}</ToggleButton>
                    <ToggleButton value="specific" data-testid="sites-specific">{S.editor.sitesSpecific}</ToggleButton>
                  </ToggleButtonGroup>
                  {form.sites.mode === "specific" && (
                    <SitesField values={form.sites.values} onChange={(values) => set("sites")({ ...form.sites, values })} />
                  )}
                </Stack>
              </>
            )}
          </Box>
        )}
      </Section>

      {form.assembly_kind === "workflow" ? (
        <Box sx={{ display: "grid", gap: 2, gridTemplateColumns: { xs: "minmax(0, 1fr)", lg: "minmax(0, 1fr) minmax(0, 1fr)" } }}>
          <Section title={S.editor.workflowJson}>
            <CodeEditor value={form.workflowText} onChange={set("workflowText")} type="workflow" readOnly={readOnly} height="420px" onChecked={setChecks} />
            {!readOnly && <ProblemsPanel checks={checks} />}
          </Section>
          <Section title={S.editor.workflowPreview}>
            <WorkflowPreview workflow={workflow} />
          </Section>
        </Box>
      ) : (
        <>
          <Section title={form.assembly_kind === "ansible" ? S.editor.playbook : S.editor.script}>
            <CodeEditor value={form.script} onChange={set("script")} type={form.assembly_type} readOnly={readOnly} onChecked={setChecks} />
            {!readOnly && <ProblemsPanel checks={checks} />}
          </Section>
          <Section title={S.editor.variables}>
            <VariablesTable variables={form.variables} onChange={set("variables")} readOnly={readOnly} problems={problems} />
          </Section>
          <Section title={S.editor.files}>
            <FilesPanel
              files={form.files}
              onChange={set("files")}
              readOnly={readOnly}
              onDownload={record ? (file) => Assemblies.downloadFile(record.assembly_guid, file.file_name).catch((err) => setError(err.message)) : null}
            />
          </Section>
        </>
      )}
      {record && (
        <Section title={S.history.title} testId="history">
          <HistoryPanel
            record={record}
            canRestore={!readOnly}
            touched={touched}
            onRestored={(revision, restored) => {
              notify({ text: S.history.restored(revision, restored.revision) });
              load();
            }}
          />
        </Section>
      )}
      <CloneDialog assembly={cloning} onClose={() => setCloning(null)} onClone={doClone} targets={["user"]} />
      <ConflictDialog
        open={conflictOpen}
        theirs={conflict?.theirs}
        base={baseline}
        mine={form}
        canCopy={allowed.length > 0}
        onLater={() => setConflictOpen(false)}
        onKeepTheirs={load}
        onOverwrite={overwrite}
        onSaveCopy={() => setCopying({ ...record, display_name: form.display_name })}
      />
      <CloneDialog assembly={copying} onClose={() => setCopying(null)} onClone={saveCopy}
        title={S.conflict.copyTitle} text={S.conflict.copyText} submitLabel={S.conflict.copySubmit} testId="save-copy-dialog" />
    </Stack>
  );
}
