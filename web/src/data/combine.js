// Combining two people's edits of one assembly (the conflict dialog's "Combine" and
// "Overwrite with mine"): a field-level three-way merge against the revision both started
// from, and a line-level three-way merge of the script when both changed it.
import { same } from "../assemblyForm.js";

// The form fields a person edits (domain, kind and version are not edited).
export const FIELDS = [
  "display_name", "summary", "category", "tags", "assembly_type", "timeout_seconds", "sites",
  "variables", "files", "script", "workflowText",
];

// Line diffs are quadratic; past this many lines a both-sides script change is a conflict.
const MAX_LINES = 2000;

// The changed stretches of `other` against `base`: [{start, end, lines}] where base lines
// start..end-1 became `lines` (from a longest common subsequence of whole lines).
function hunks(base, other) {
  const n = base.length;
  const m = other.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i][j] = base[i] === other[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const found = [];
  let i = 0;
  let j = 0;
  let start = null;
  const close = () => {
    if (start) found.push({ start: start[0], end: i, lines: other.slice(start[1], j) });
    start = null;
  };
  while (i < n || j < m) {
    if (i < n && j < m && base[i] === other[j]) {
      close();
      i += 1;
      j += 1;
    } else {
      if (!start) start = [i, j];
      if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) j += 1;
      else i += 1;
    }
  }
  close();
  return found;
}

// Theirs and mine applied onto base, or null when a change of one touches a change of the other.
export function mergeLines(baseText, theirText, myText) {
  const split = (text) => text.split("\n");
  const base = split(baseText);
  const theirs = split(theirText);
  const mine = split(myText);
  if (Math.max(base.length, theirs.length, mine.length) > MAX_LINES) return null;
  const all = [...hunks(base, theirs), ...hunks(base, mine)].sort((a, b) => a.start - b.start || a.end - b.end);
  const kept = [];
  for (const hunk of all) {
    const last = kept[kept.length - 1];
    // Touching counts as overlapping (like git): two edits of neighbouring lines need a person.
    if (last && hunk.start <= last.end) {
      if (hunk.start === last.start && hunk.end === last.end && same(hunk.lines, last.lines)) continue;
      return null;
    }
    kept.push(hunk);
  }
  const out = [];
  let at = 0;
  for (const hunk of kept) {
    out.push(...base.slice(at, hunk.start), ...hunk.lines);
    at = hunk.end;
  }
  out.push(...base.slice(at));
  return out.join("\n");
}

// {form, conflicts}: theirs with my changed fields applied; `conflicts` names the fields
// both changed differently (and whose script lines could not be merged).
export function combine(base, theirs, mine) {
  const form = { ...theirs };
  const conflicts = [];
  for (const field of FIELDS) {
    const iChanged = !same(mine[field], base[field]);
    const theyChanged = !same(theirs[field], base[field]);
    if (!iChanged) continue;
    if (!theyChanged || same(mine[field], theirs[field])) {
      form[field] = mine[field];
      continue;
    }
    const merged = field === "script" ? mergeLines(base.script, theirs.script, mine.script) : null;
    if (merged === null) conflicts.push(field);
    else form[field] = merged;
  }
  return { form, conflicts };
}

// "Overwrite with mine": every field I changed wins, theirs stay where I changed nothing.
export function overwriteWithMine(base, theirs, mine) {
  const form = { ...theirs };
  for (const field of FIELDS) if (!same(mine[field], base[field])) form[field] = mine[field];
  return form;
}
