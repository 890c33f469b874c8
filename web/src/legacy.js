// Reading a legacy assembly document in the browser (Import in the editor).
//
// The result is the editor's form state for a NEW User-Created assembly; nothing is sent to
// the engine here. Accepted: script/playbook documents (base64 `script` with
// script_encoding "base64", plaintext `script`, or the oldest `script_lines`), workflow
// canvases {tab_name, nodes, edges}, the wrapped/exported form (its "assembly_engine" key
// is ignored, so its guid never comes along), and raw .yml/.yaml playbooks.

export const SCRIPT_TYPES = ["powershell", "batch", "bash", "python"];
export const TYPES_BY_KIND = {
  script: SCRIPT_TYPES,
  ansible: ["ansible"],
  workflow: ["workflow"],
};

export class LegacyDocumentError extends Error {}

function fail(message) {
  throw new LegacyDocumentError(message);
}

export function decodeBase64Utf8(text, where) {
  let binary;
  try {
    binary = atob(String(text).replace(/\s+/g, ""));
  } catch {
    fail(`${where} is marked as base64 but is not valid base64.`);
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    fail(`${where} does not decode to UTF-8 text.`);
  }
  return "";
}

function stem(fileName) {
  const base = String(fileName || "").split(/[\\/]/).pop();
  return base.replace(/\.[^.]+$/, "") || "Imported assembly";
}

function str(value) {
  return typeof value === "string" ? value : value == null ? "" : String(value);
}

function normaliseSites(sites) {
  if (!sites || typeof sites !== "object") return { mode: "all", values: [] };
  const mode = sites.mode === "specific" ? "specific" : "all";
  const values = Array.isArray(sites.values) ? sites.values.map((v) => str(v)) : [];
  return { mode, values };
}

function normaliseVariables(variables) {
  if (variables == null) return [];
  if (!Array.isArray(variables)) fail("variables must be a list.");
  return variables.map((v, index) => {
    if (!v || typeof v !== "object") fail(`variables[${index}] must be an object.`);
    return {
      name: str(v.name),
      label: str(v.label),
      type: str(v.type || "string"),
      default: v.default == null ? "" : str(v.default),
      required: Boolean(v.required),
      description: str(v.description),
    };
  });
}

function normaliseFiles(files) {
  if (files == null) return [];
  if (!Array.isArray(files)) fail("files must be a list.");
  return files.map((f, index) => {
    if (!f || typeof f !== "object" || typeof f.file_name !== "string" || !f.file_name) {
      fail(`files[${index}] needs a file_name.`);
    }
    if (typeof f.data !== "string") fail(`files[${index}] (${f.file_name}) has no base64 data.`);
    const size = Number.isFinite(f.size) ? f.size : Math.floor((f.data.replace(/=+$/, "").length * 3) / 4);
    return { file_name: f.file_name, mime_type: f.mime_type || "application/octet-stream", size, data: f.data };
  });
}

function emptyForm(kind, type) {
  return {
    display_name: "",
    summary: "",
    category: { workflow: "workflow", ansible: "application" }[kind] || "script",
    assembly_kind: kind,
    assembly_type: type,
    version: 1,
    timeout_seconds: "3600",
    sites: { mode: "all", values: [] },
    variables: [],
    files: [],
    script: "",
    workflowText: JSON.stringify({ nodes: [], edges: [] }, null, 2),
  };
}

export function newForm(kind) {
  return emptyForm(kind, TYPES_BY_KIND[kind][0]);
}

function scriptText(doc, where) {
  if (typeof doc.script === "string") {
    return doc.script_encoding === "base64" ? decodeBase64Utf8(doc.script, `${where}.script`) : doc.script;
  }
  if (doc.script != null) fail(`${where}.script must be a string.`);
  if (Array.isArray(doc.script_lines)) return doc.script_lines.map((line) => str(line)).join("\n");
  return null;
}

function fromScriptDocument(doc, fileName) {
  const script = scriptText(doc, "document");
  if (script === null) fail("it has no script, script_lines or workflow nodes.");
  const type = str(doc.type || "powershell").toLowerCase();
  let kind;
  if (type === "ansible") kind = "ansible";
  else if (SCRIPT_TYPES.includes(type)) kind = "script";
  else fail(`its type “${type}” is not one of ${[...SCRIPT_TYPES, "ansible"].join(", ")}.`);
  const form = emptyForm(kind, type);
  form.display_name = str(doc.name) || stem(fileName);
  form.summary = str(doc.description);
  form.category = doc.category == null ? form.category : str(doc.category);
  form.version = Number.isInteger(doc.version) ? doc.version : 1;
  form.timeout_seconds = doc.timeout_seconds == null ? "" : String(doc.timeout_seconds);
  form.sites = normaliseSites(doc.sites);
  form.variables = normaliseVariables(doc.variables);
  form.files = normaliseFiles(doc.files);
  form.script = script;
  return form;
}

function fromWorkflow(workflow, name, fileName) {
  if (!Array.isArray(workflow.nodes) || !Array.isArray(workflow.edges)) {
    fail("a workflow needs nodes and edges lists.");
  }
  const form = emptyForm("workflow", "workflow");
  form.display_name = str(name || workflow.tab_name) || stem(fileName);
  form.workflowText = JSON.stringify(workflow, null, 2);
  return form;
}

function fromWrapped(doc, fileName) {
  const kind = doc.assembly_kind;
  if (!TYPES_BY_KIND[kind]) fail(`its assembly_kind “${str(kind)}” is unknown.`);
  const payload = doc.payload || {};
  const meta = doc.metadata && typeof doc.metadata === "object" ? doc.metadata : {};
  let form;
  if (kind === "workflow") {
    if (!payload.workflow || typeof payload.workflow !== "object") fail("payload.workflow is missing.");
    form = fromWorkflow(payload.workflow, doc.display_name, fileName);
  } else {
    if (typeof payload.script !== "string") fail("payload.script is missing.");
    const type = TYPES_BY_KIND[kind].includes(doc.assembly_type) ? doc.assembly_type : TYPES_BY_KIND[kind][0];
    form = emptyForm(kind, type);
    form.script = payload.script;
    form.files = normaliseFiles(payload.files);
  }
  form.display_name = str(doc.display_name) || stem(fileName);
  form.summary = str(doc.summary);
  form.category = doc.category == null ? form.category : str(doc.category);
  form.version = Number.isInteger(doc.version) ? doc.version : 1;
  form.timeout_seconds = meta.timeout_seconds == null ? "" : String(meta.timeout_seconds);
  form.sites = normaliseSites(meta.sites);
  form.variables = normaliseVariables(meta.variables);
  return form;
}

// Parse file text into {form, document}; `document` is what POST /api/assemblies/import takes
// (the parsed object, or for raw YAML the text itself, named by the file name).
export function parseLegacyFile(text, fileName) {
  const clean = String(text).replace(/^\ufeff/, "");
  if (/\.ya?ml$/i.test(fileName || "")) {
    if (!clean.trim()) fail("the YAML file is empty.");
    const form = emptyForm("ansible", "ansible");
    form.display_name = stem(fileName);
    form.category = "application";
    form.script = clean;
    return { form, document: clean };
  }
  let doc;
  try {
    doc = JSON.parse(clean);
  } catch (error) {
    fail(`it is not valid JSON (${error.message}).`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) fail("it must be a JSON object.");
  // Always a new assembly: drop every id the file carries (the exported form keeps the rest
  // of its "assembly_engine" block, e.g. tags, so a re-import stays lossless).
  const document = { ...doc };
  delete document.assembly_guid;
  if (document.assembly_engine && typeof document.assembly_engine === "object") {
    const { assembly_guid: _ignored, ...rest } = document.assembly_engine;
    document.assembly_engine = rest;
  }
  let form;
  if (doc.payload && typeof doc.payload === "object" && doc.assembly_kind) form = fromWrapped(doc, fileName);
  else if (Array.isArray(doc.nodes) || Array.isArray(doc.edges)) form = fromWorkflow(doc, null, fileName);
  else form = fromScriptDocument(doc, fileName);
  return { form, document };
}
