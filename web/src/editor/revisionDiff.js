// What differs between two editor forms (a kept revision, the current one, your edits),
// field by field, as text the diff view shows. The code is compared by the merge view.
import S from "../strings.js";

function variablesText(variables) {
  if (!variables.length) return S.diff.none;
  return variables
    .map((v) => {
      const parts = [v.type, v.required ? "required" : null, v.default !== "" && v.default != null ? `default ${JSON.stringify(v.default)}` : null];
      const label = v.label && v.label !== v.name ? ` “${v.label}”` : "";
      const description = v.description ? ` — ${v.description}` : "";
      return `${v.name}${label} (${parts.filter(Boolean).join(", ")})${description}`;
    })
    .join("\n");
}

const TEXT = {
  display_name: (f) => f.display_name,
  summary: (f) => f.summary,
  category: (f) => f.category,
  assembly_type: (f) => S.types[f.assembly_type] || f.assembly_type,
  version: (f) => (f.version == null ? "" : String(f.version)),
  timeout_seconds: (f) => String(f.timeout_seconds ?? ""),
  sites: (f) => (f.sites.mode === "specific" ? f.sites.values.filter(Boolean).join(", ") || S.diff.none : S.editor.sitesAll),
  variables: (f) => variablesText(f.variables),
  files: (f) => (f.files.length ? f.files.map((file) => file.file_name).join("\n") : S.diff.none),
};

const WORKFLOW_FIELDS = ["display_name", "summary", "category", "assembly_type", "version"];
const SCRIPT_FIELDS = [...WORKFLOW_FIELDS, "timeout_seconds", "sites", "variables", "files"];

// [{field, label, before, after}] for every field whose text differs (code excluded).
export function fieldDiffs(before, after) {
  const fields = after.assembly_kind === "workflow" ? WORKFLOW_FIELDS : SCRIPT_FIELDS;
  const diffs = [];
  for (const field of fields) {
    const a = TEXT[field](before);
    const b = TEXT[field](after);
    if (a !== b) diffs.push({ field, label: S.diff.labels[field], before: a || S.diff.empty, after: b || S.diff.empty });
  }
  return diffs;
}

// The code a form holds: the script or playbook, or the workflow JSON.
export function codeOf(form) {
  return form.assembly_kind === "workflow" ? form.workflowText : form.script;
}

// Labels of what changed from `base` to `form`: the fields, and the code when it differs.
export function changedLabels(base, form) {
  const labels = fieldDiffs(base, form).map((d) => d.label);
  if (codeOf(base) !== codeOf(form)) labels.unshift(codeTitle(form));
  return labels;
}

export function codeTitle(form) {
  if (form.assembly_kind === "workflow") return S.diff.workflow;
  return form.assembly_kind === "ansible" ? S.diff.playbook : S.diff.code;
}
