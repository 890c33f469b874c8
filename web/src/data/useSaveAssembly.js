// Saving the editor's form: create or update (If-Match the revision the edits started
// from), the conflict it may meet and its ways out, and the retry after signing in again.
// An ended session never costs the edits: the save waits for the new sign-in, then runs.
import { useCallback, useEffect, useRef, useState } from "react";
import { Assemblies } from "../api.js";
import S from "../strings.js";
import { navigate } from "../router.js";
import { changesOf, createBody, formFromRecord, same } from "../assemblyForm.js";
import { combine, overwriteWithMine } from "./combine.js";
import { assembliesChanged } from "./signals.js";

// editor: {record, form, baseline, baseRevision, imported, setForm, setBaseline, setBaseRevision,
// reload, forget (drop the draft), notify, signIns (a counter of sign-ins)}
export function useSaveAssembly(editor) {
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState(null);
  // A stale save: {theirs} (the record now stored) while the user decides; open = dialog shown.
  const [conflict, setConflict] = useState(null);
  const [conflictOpen, setConflictOpen] = useState(false);
  const [awaitingSignIn, setAwaitingSignIn] = useState(false);
  const latest = useRef(editor);
  latest.current = editor;
  const { record, form, baseline, notify } = editor;

  const showConflict = useCallback(async () => {
    try {
      setConflict({ theirs: await Assemblies.get(latest.current.record.assembly_guid) });
      setConflictOpen(true);
    } catch (err) {
      setError(err.status === 404 ? S.editor.notFound : err.message);
    }
  }, []);

  const resetConflict = useCallback(() => {
    setConflict(null);
    setConflictOpen(false);
    setError(null);
  }, []);

  const save = useCallback(async (target = null) => {
    const { record: current, form: mine, baseline: base, baseRevision: revision, imported: document } = latest.current;
    setSaving(true);
    setError(null);
    try {
      if (!current || target) {
        const domain = target || mine.domain;
        let created;
        if (!target && document && same(mine, document.form)) {
          created = await Assemblies.importDocument(document.documentBase64, domain, document.fileName);
        } else {
          created = await Assemblies.create(createBody(mine, domain));
        }
        latest.current.setBaseline(mine);
        latest.current.forget();
        assembliesChanged.emit();
        notify({ text: target ? S.drafts.savedCopy(created.display_name) : S.editor.saved });
        navigate(`/assemblies/${created.assembly_guid}`, { replace: !target, force: true });
        return;
      }
      const changes = changesOf(mine, base);
      if (Object.keys(changes).length) await Assemblies.update(current.assembly_guid, changes, revision);
      latest.current.forget();
      assembliesChanged.emit();
      notify({ text: S.editor.saved });
      await latest.current.reload();
    } catch (err) {
      if (err.status === 409 && err.code === "conflict") await showConflict();
      else if (err.status === 401) {
        // The app asks to sign in again over the editor; the save runs once that is done.
        setAwaitingSignIn(true);
        setError(S.drafts.signInToSave);
      } else {
        // 403: Dev Mode may have ended in another tab; re-read it so the page says so.
        if (err.status === 403) latest.current.refreshDevMode?.();
        setError(err.message);
      }
    } finally {
      setSaving(false);
    }
  }, [notify, showConflict]);

  // Signed in again after the session ended during a save: save now (If-Match still holds
  // the revision the edits started from, so someone else's save meanwhile is a conflict).
  const signIns = editor.signIns;
  const firstSignIns = useRef(signIns);
  useEffect(() => {
    if (signIns === firstSignIns.current || !awaitingSignIn) return;
    setAwaitingSignIn(false);
    save();
  }, [signIns, awaitingSignIn, save]);

  // "Overwrite with mine": my changed fields onto theirs (theirs stay where I changed
  // nothing), saved as the revision after theirs.
  const overwrite = async () => {
    const { theirs } = conflict;
    const theirsForm = formFromRecord(theirs);
    const changes = changesOf(overwriteWithMine(baseline, theirsForm, form), theirsForm);
    try {
      if (Object.keys(changes).length) await Assemblies.update(record.assembly_guid, changes, theirs.revision);
    } catch (err) {
      if (err.status === 409 && err.code === "conflict") {
        await showConflict();
        throw new Error(S.conflict.again);
      }
      throw err;
    }
    latest.current.forget();
    notify({ text: S.editor.saved });
    await latest.current.reload();
  };

  // "Combine": theirs with my changes applied, put into the form to look at before saving;
  // the next save is checked against their revision.
  const combined = conflict ? combine(baseline, formFromRecord(conflict.theirs), form) : null;
  const applyCombined = () => {
    const theirsForm = formFromRecord(conflict.theirs);
    editor.setForm({ ...combined.form, domain: form.domain });
    editor.setBaseline(theirsForm);
    editor.setBaseRevision(conflict.theirs.revision);
    editor.setRecord(conflict.theirs);
    resetConflict();
    notify({ text: S.conflict.combined, severity: "info" });
  };

  // "Save mine as a new copy": clone what is stored, then give the copy the user's edits.
  const saveCopy = async (assembly, target, name) => {
    const copy = await Assemblies.clone(record.assembly_guid, target, name);
    const changes = changesOf({ ...form, display_name: name }, formFromRecord(copy));
    const saved = Object.keys(changes).length ? await Assemblies.update(copy.assembly_guid, changes, copy.revision) : copy;
    editor.setBaseline(form); // the edits are saved (in the copy): leaving asks nothing
    latest.current.forget();
    notify({ text: S.conflict.copied(saved.display_name) });
    navigate(`/assemblies/${saved.assembly_guid}`, { force: true });
  };

  return {
    save, saving, error, setError, conflict, conflictOpen, setConflictOpen, resetConflict, overwrite,
    combined, applyCombined, saveCopy, awaitingSignIn,
  };
}
