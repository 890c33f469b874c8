// The editor's form: defaults (a new assembly), the types each kind allows, and the
// conversions between the form and the engine's records and request bodies. Reading
// imported documents is the engine's job: the editor's Import asks
// POST /api/assemblies/import with dry_run and shows what the engine would create.

export const SCRIPT_TYPES = ["powershell", "batch", "bash", "python"];
export const TYPES_BY_KIND = {
  script: SCRIPT_TYPES,
  ansible: ["ansible"],
  workflow: ["workflow"],
};

export function newForm(kind) {
  return {
    display_name: "",
    summary: "",
    category: "", // no legacy category ("script", "application") pre-filled: the user names the folder
    tags: [],
    assembly_kind: kind,
    assembly_type: TYPES_BY_KIND[kind][0],
    version: 1,
    timeout_seconds: "3600",
    sites: { mode: "all", values: [] },
    variables: [],
    files: [],
    script: "",
    workflowText: JSON.stringify({ nodes: [], edges: [] }, null, 2),
  };
}

// A file's bytes as base64 (sent as document_base64, so the engine sees them byte for byte).
export async function fileBase64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

// The editor's form state for a record from GET /api/assemblies/{guid}.
export function formFromRecord(record) {
  const meta = record.metadata || {};
  const payload = record.payload || {};
  const sites = meta.sites && typeof meta.sites === "object" ? meta.sites : null;
  return {
    domain: record.source,
    display_name: record.display_name || "",
    summary: record.summary || "",
    category: record.category || "",
    tags: Array.isArray(record.tags) ? record.tags.map(String) : [],
    assembly_kind: record.assembly_kind,
    assembly_type: record.assembly_type,
    version: record.version,
    timeout_seconds: meta.timeout_seconds == null ? "" : String(meta.timeout_seconds),
    sites: { mode: sites?.mode === "specific" ? "specific" : "all", values: Array.isArray(sites?.values) ? sites.values.map(String) : [] },
    variables: Array.isArray(meta.variables) ? meta.variables.map((v) => ({ ...v, default: v.default ?? "" })) : [],
    files: (payload.files || []).map((f) => ({ ...f, saved: true })),
    script: payload.script ?? "",
    workflowText: JSON.stringify(payload.workflow ?? { nodes: [], edges: [] }, null, 2),
  };
}

export function parseWorkflow(text) {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

export function metadataOf(form) {
  const timeout = String(form.timeout_seconds).trim();
  return {
    timeout_seconds: timeout === "" ? null : Number(timeout),
    sites: { mode: form.sites.mode, values: form.sites.mode === "specific" ? form.sites.values.filter(Boolean) : [] },
    variables: form.variables.map((v) => ({
      name: v.name,
      label: v.label,
      type: v.type,
      default: v.default,
      required: Boolean(v.required),
      description: v.description,
    })),
  };
}

export function payloadOf(form) {
  if (form.assembly_kind === "workflow") return { workflow: parseWorkflow(form.workflowText) };
  return {
    script: form.script,
    // Saved files are sent by name only (the engine keeps their bytes); uploads carry data.
    files: form.files.map((f) =>
      f.data !== undefined && !f.saved
        ? { file_name: f.file_name, mime_type: f.mime_type, data: f.data }
        : { file_name: f.file_name, mime_type: f.mime_type },
    ),
  };
}

export const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// PUT body: only what differs from `base` (metadata keys merge on the engine). `base` is
// what was loaded, or, to overwrite after a conflict, the other person's revision.
export function changesOf(form, base) {
  const changes = {};
  for (const key of ["display_name", "summary", "category", "assembly_type"]) {
    if (form[key] !== base[key]) changes[key] = key === "display_name" ? form[key].trim() : form[key];
  }
  if (!same(form.tags || [], base.tags || [])) changes.tags = form.tags || [];
  if (form.assembly_kind !== "workflow") {
    const meta = metadataOf(form);
    const baseMeta = metadataOf(base);
    const metadata = {};
    for (const key of Object.keys(meta)) if (!same(meta[key], baseMeta[key])) metadata[key] = meta[key];
    if (Object.keys(metadata).length) changes.metadata = metadata;
    if (form.script !== base.script || !same(form.files, base.files)) changes.payload = payloadOf(form);
  } else if (!same(parseWorkflow(form.workflowText), parseWorkflow(base.workflowText))) {
    changes.payload = payloadOf(form);
  }
  return changes;
}

// POST body making `form` a new assembly in `domain` (a new form, or a copy of edits).
export function createBody(form, domain, displayName = form.display_name) {
  const body = {
    domain,
    display_name: displayName.trim(),
    assembly_kind: form.assembly_kind,
    assembly_type: form.assembly_type,
    summary: form.summary,
    category: form.category,
    tags: form.tags || [],
    payload: payloadOf(form),
  };
  if (Number.isInteger(form.version)) body.version = form.version;
  if (form.assembly_kind !== "workflow") {
    const meta = metadataOf(form);
    if (meta.timeout_seconds === null) delete meta.timeout_seconds;
    body.metadata = meta;
  }
  return body;
}
