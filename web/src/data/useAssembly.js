// One assembly in the editor: the stored record, the form being edited, the baseline it
// is compared with (what was loaded) and the revision the edits started from (If-Match).
import { useCallback, useEffect, useState } from "react";
import { Assemblies } from "../api.js";
import S from "../strings.js";
import { TYPES_BY_KIND, formFromRecord, newForm } from "../assemblyForm.js";
import { withRetry } from "./reachability.js";

const POLL_MS = 2000;

export function useAssembly(guid, kind) {
  const [record, setRecord] = useState(null);
  const [form, setForm] = useState(() => (guid ? null : { ...newForm(TYPES_BY_KIND[kind] ? kind : "script"), domain: "user" }));
  const [baseline, setBaseline] = useState(form);
  const [baseRevision, setBaseRevision] = useState(null);
  const [loadError, setLoadError] = useState(null);

  // Read the stored record into the form (after opening, a save, a restore, "keep theirs").
  // Retries while the engine is unreachable; resolves to the record, or null on a refusal.
  const load = useCallback(async () => {
    if (!guid) return null;
    try {
      const loaded = await withRetry(() => Assemblies.get(guid));
      const next = formFromRecord(loaded);
      setRecord(loaded);
      setForm(next);
      setBaseline(next);
      setBaseRevision(loaded.revision);
      return loaded;
    } catch (err) {
      setLoadError(err.status === 404 ? S.editor.notFound : err.message);
      return null;
    }
  }, [guid]);

  useEffect(() => {
    load();
  }, [load]);

  // Keep the queue status of the header current until the change is persisted.
  const dirty = Boolean(record?.is_dirty);
  const recordGuid = record?.assembly_guid;
  useEffect(() => {
    if (!dirty || !recordGuid) return undefined;
    const timer = window.setInterval(async () => {
      try {
        const latest = await Assemblies.get(recordGuid);
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
  }, [dirty, recordGuid]);

  return { record, setRecord, form, setForm, baseline, setBaseline, baseRevision, setBaseRevision, loadError, load };
}
