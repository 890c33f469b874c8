// The editor page: lays out what the data hooks hold (data/useAssembly, useSaveAssembly,
// useDraft) in the action bar, the notices and the form's sections.
import { useEffect, useMemo, useState } from "react";
import Box from "@mui/material/Box";
import Stack from "@mui/material/Stack";
import Button from "@mui/material/Button";
import Alert from "@mui/material/Alert";
import CircularProgress from "@mui/material/CircularProgress";
import ArrowBackIcon from "@mui/icons-material/ArrowBack";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { listUrl, navigate } from "../router.js";
import { isAdmin, mayWrite, useSession, writableDomains } from "../session.js";
import { parseWorkflow, same } from "../assemblyForm.js";
import { useAssembly } from "../data/useAssembly.js";
import { useSaveAssembly } from "../data/useSaveAssembly.js";
import { useDraft } from "../data/useDraft.js";
import CodeEditor from "../editor/CodeEditor.jsx";
import ProblemsPanel, { StoredCheck } from "../editor/ProblemsPanel.jsx";
import WorkflowPreview from "../editor/WorkflowPreview.jsx";
import VariablesTable, { variableProblems } from "../editor/VariablesTable.jsx";
import FilesPanel from "../editor/FilesPanel.jsx";
import HistoryPanel from "../editor/HistoryPanel.jsx";
import ConflictDialog from "../editor/ConflictDialog.jsx";
import EditorActionBar from "../editor/EditorActionBar.jsx";
import EditorNotices from "../editor/EditorNotices.jsx";
import UpstreamChoice from "../editor/UpstreamChoice.jsx";
import VendorDeprecation from "../editor/VendorDeprecation.jsx";
import DetailsSection from "../editor/DetailsSection.jsx";
import Section from "../editor/Section.jsx";
import { useEditorGuards } from "../editor/useEditorGuards.js";
import { validate } from "../editor/validate.js";
import { readImport } from "../editor/importDocument.js";
import { CloneDialog } from "../components/Dialogs.jsx";

export default function AssemblyEditor({ guid, kind }) {
  const session = useSession();
  const { notify } = session;
  const assembly = useAssembly(guid, kind);
  const { record, form, setForm, baseline, setBaseline, baseRevision, setBaseRevision, loadError } = assembly;
  // A document loaded into the form: {documentBase64, fileName, form}. Until it is saved
  // the form is unsaved work, even if it was not edited after the import.
  const [imported, setImported] = useState(null);
  const [copying, setCopying] = useState(null);
  const [cloning, setCloning] = useState(null);
  const [showProblems, setShowProblems] = useState(false);
  // The last script check of the editor's text (Docs/script-checks.md), for the problems
  // list and the count beside Save.
  const [checks, setChecks] = useState(null);
  const touched = useMemo(() => Boolean(imported) || (form !== null && !same(form, baseline)), [form, baseline, imported]);

  const user = session.user?.username;
  const draftId = guid || `new-${kind}`;
  const loadedForm = guid ? (record ? baseline : null) : baseline;
  const draft = useDraft({ user, id: draftId, form, baseline, baseRevision, touched, loadedForm });

  const reload = async () => {
    const loaded = await assembly.load();
    setImported(null);
    saver.resetConflict();
    setShowProblems(false);
    return loaded;
  };
  const saver = useSaveAssembly({
    ...assembly, imported, notify, reload, forget: draft.forget, signIns: session.signIns, refreshDevMode: session.refreshDevMode,
  });

  // Dev Mode switched off while a new form targets official/community: back to User-Created.
  const allowed = writableDomains(session);
  useEffect(() => {
    if (!record && form && form.domain !== "user" && !allowed.includes(form.domain)) setForm((f) => ({ ...f, domain: "user" }));
  }, [record, form, allowed, setForm]);

  const title = record ? record.display_name : form ? S.editor.newTitle(S.kinds[form.assembly_kind]) : null;
  const writable = Boolean(form) && mayWrite(session, form.domain);
  const isNew = !record;
  const canSave = writable && !saver.saving && (isNew || touched);

  const save = async () => {
    if (!canSave) return;
    const problem = validate(form);
    if (problem) {
      setShowProblems(true);
      saver.setError(problem);
      // Take the user (and the keyboard focus) to the first row to fix.
      window.requestAnimationFrame(() => document.querySelector('[data-invalid="true"] input')?.focus());
      return;
    }
    await saver.save();
  };
  useEditorGuards({ touched, title, onSave: save });

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

  // Unsaved edits in a domain no longer writable (Dev Mode ended): kept editable and
  // savable once Dev Mode is back, or as a copy in User-Created.
  const stranded = !writable && touched;
  const readOnly = !writable && !stranded;
  const set = (key) => (value) => setForm((f) => ({ ...f, [key]: value }));
  const problems = showProblems && form.assembly_kind !== "workflow" ? variableProblems(form.variables) : {};

  const importFile = async (event) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    try {
      const next = await readImport(file);
      assembly.setRecord(null);
      setForm(next.form);
      setBaseline(next.form);
      setBaseRevision(null);
      setImported(next.imported);
      saver.resetConflict();
      setShowProblems(false);
      window.history.replaceState(window.history.state, "", `/assemblies/new/${next.form.assembly_kind}`);
      notify({ text: S.editor.imported(next.form.display_name), severity: "info" });
    } catch (err) {
      saver.setError(err.message);
    }
  };

  const exportJson = async () => {
    try {
      await Assemblies.exportFile(record.assembly_guid, record.display_name);
    } catch (err) {
      saver.setError(err.message);
    }
  };

  const doClone = async (source, target, name) => {
    const created = await Assemblies.clone(source.assembly_guid, target, name);
    setCloning(null);
    notify({ text: S.list.cloned(created.display_name, S.domains[target]) });
    navigate(`/assemblies/${created.assembly_guid}`, { force: true });
  };

  const restoreDraft = () => {
    const found = draft.offer;
    setForm(found.form);
    setBaseline(found.baseline || baseline);
    if (found.revision != null) setBaseRevision(found.revision);
    draft.dismissOffer();
  };

  const workflow = form.assembly_kind === "workflow" ? parseWorkflow(form.workflowText) : null;
  return (
    <Stack spacing={2} sx={{ maxWidth: 1400, width: "100%", mx: "auto", mt: { xs: -1.5, md: -3 } }} data-testid="assembly-editor">
      <EditorActionBar title={title} record={record} domain={form.domain} touched={touched} editable={!readOnly}
        canSave={canSave} saving={saver.saving} checks={checks} onSave={save} onExport={exportJson} onImportFile={importFile} />
      <EditorNotices
        draft={draft.offer}
        onRestoreDraft={restoreDraft}
        onDiscardDraft={draft.forget}
        readOnly={readOnly && !isNew}
        stranded={stranded}
        admin={isAdmin(session)}
        onClone={() => setCloning(record)}
        onSaveCopy={() => saver.save("user")}
        conflict={saver.conflict}
        onResolve={() => saver.setConflictOpen(true)}
        error={saver.error}
        onCloseError={() => saver.setError(null)}
      />
      <VendorDeprecation record={record} />
      <UpstreamChoice record={record} onError={saver.setError} onResolved={(text) => { notify({ text }); reload(); }} />
      <DetailsSection form={form} set={set} readOnly={readOnly} isNew={isNew} domains={isNew && allowed.length > 1 ? allowed : null} />
      {form.assembly_kind === "workflow" ? (
        <Box sx={{ display: "grid", gap: 2, gridTemplateColumns: { xs: "minmax(0, 1fr)", lg: "minmax(0, 1fr) minmax(0, 1fr)" } }}>
          <Section title={S.editor.workflowJson}>
            <CodeEditor value={form.workflowText} onChange={set("workflowText")} type="workflow" readOnly={readOnly} height="420px" onChecked={setChecks} />
            {readOnly ? <StoredCheck checks={record?.checks} /> : <ProblemsPanel checks={checks} />}
          </Section>
          <Section title={S.editor.workflowPreview}>
            <WorkflowPreview workflow={workflow} />
          </Section>
        </Box>
      ) : (
        <>
          <Section title={form.assembly_kind === "ansible" ? S.editor.playbook : S.editor.script}>
            <CodeEditor value={form.script} onChange={set("script")} type={form.assembly_type} readOnly={readOnly} onChecked={setChecks} />
            {readOnly ? <StoredCheck checks={record?.checks} /> : <ProblemsPanel checks={checks} />}
          </Section>
          <Section title={S.editor.variables}>
            <VariablesTable variables={form.variables} onChange={set("variables")} readOnly={readOnly} problems={problems} />
          </Section>
          <Section title={S.editor.files}>
            <FilesPanel
              files={form.files}
              onChange={set("files")}
              readOnly={readOnly}
              onDownload={record ? (file) => Assemblies.downloadFile(record.assembly_guid, file.file_name).catch((err) => saver.setError(err.message)) : null}
            />
          </Section>
        </>
      )}
      {record && (
        <Section title={S.history.title} testId="history">
          <HistoryPanel
            record={record}
            canRestore={writable}
            touched={touched}
            onRestored={(revision, restored) => {
              notify({ text: S.history.restored(revision, restored.revision) });
              reload();
            }}
          />
        </Section>
      )}
      <CloneDialog assembly={cloning} onClose={() => setCloning(null)} onClone={doClone} targets={["user"]} />
      <ConflictDialog
        open={saver.conflictOpen}
        theirs={saver.conflict?.theirs}
        base={baseline}
        mine={form}
        canCopy={allowed.length > 0}
        combined={saver.combined}
        onCombine={saver.applyCombined}
        onLater={() => saver.setConflictOpen(false)}
        onKeepTheirs={() => { draft.forget(); reload(); }}
        onOverwrite={saver.overwrite}
        onSaveCopy={() => setCopying({ ...record, display_name: form.display_name })}
      />
      <CloneDialog assembly={copying} onClose={() => setCopying(null)}
        onClone={async (...args) => { await saver.saveCopy(...args); setCopying(null); }}
        title={S.conflict.copyTitle} text={S.conflict.copyText} submitLabel={S.conflict.copySubmit} testId="save-copy-dialog" />
    </Stack>
  );
}
