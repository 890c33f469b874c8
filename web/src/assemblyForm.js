// The editor's form defaults (a new assembly) and the types each kind allows. Reading
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
    category: { workflow: "workflow", ansible: "application" }[kind] || "script",
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
