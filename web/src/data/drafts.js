// Unsaved edits kept in this browser (localStorage) until they are saved or explicitly
// discarded, so a reload, an ended session or a closed tab loses nothing. One draft per
// user and assembly ("new" for a form not saved yet); a draft remembers the revision its
// edits started from, so saving it later still meets the conflict check.
const PREFIX = "ae-draft:";

function key(user, id) {
  return `${PREFIX}${user || "?"}:${id}`;
}

// {form, baseline, revision, savedAt} or null.
export function readDraft(user, id) {
  try {
    const raw = window.localStorage.getItem(key(user, id));
    const draft = raw ? JSON.parse(raw) : null;
    return draft && typeof draft === "object" && draft.form ? draft : null;
  } catch {
    return null;
  }
}

// False when the browser refused (storage full or disabled): the editor says so.
export function writeDraft(user, id, { form, baseline, revision }) {
  try {
    const draft = { form, baseline, revision: revision ?? null, savedAt: new Date().toISOString() };
    window.localStorage.setItem(key(user, id), JSON.stringify(draft));
    return true;
  } catch {
    return false;
  }
}

export function dropDraft(user, id) {
  try {
    window.localStorage.removeItem(key(user, id));
  } catch {
    // nothing stored, nothing to drop
  }
}
