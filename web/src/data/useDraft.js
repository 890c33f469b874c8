// The editor's draft: written to the browser on every edit while the form differs from
// what is stored, dropped when saved or discarded, and offered back when the assembly is
// opened again with a draft left behind (a reload, a closed tab, an ended session).
import { useCallback, useEffect, useRef, useState } from "react";
import { same } from "../assemblyForm.js";
import { dropDraft, readDraft, writeDraft } from "./drafts.js";

// id: the assembly's GUID, or "new"; loadedForm: the stored form once loaded (null before).
export function useDraft({ user, id, form, baseline, baseRevision, touched, loadedForm }) {
  // A draft found on opening, until restored or discarded: {form, baseline, revision, savedAt}.
  const [offer, setOffer] = useState(null);
  const decided = useRef(false);

  useEffect(() => {
    if (decided.current || !loadedForm) return;
    decided.current = true;
    const draft = readDraft(user, id);
    if (draft && !same(draft.form, loadedForm)) setOffer(draft);
    else if (draft) dropDraft(user, id);
  }, [user, id, loadedForm]);

  // Not while a found draft waits for an answer: it would be overwritten by the stored form.
  useEffect(() => {
    if (offer || !touched || !form) return;
    writeDraft(user, id, { form, baseline, revision: baseRevision });
  }, [user, id, form, baseline, baseRevision, touched, offer]);

  const forget = useCallback(() => {
    setOffer(null);
    dropDraft(user, id);
  }, [user, id]);

  return { offer, forget, dismissOffer: () => setOffer(null) };
}
