// Files chosen or dropped on the list's Import, as documents of one batch import
// (POST /api/assemblies/import/batch), with the CLI's fidelity: bytes sent as they are
// (base64), a file's folders (when a folder was chosen) as its category, and a Tactical
// RMM manifest (a JSON array of entries naming their script by "filename") paired with
// those scripts among the chosen files.
import { Assemblies } from "../api.js";
import { fileBase64 } from "../assemblyForm.js";
import S from "../strings.js";

// Large libraries go in several requests; the engine takes up to 10,000 documents each.
const CHUNK = 500;

function pathOf(file) {
  return file.webkitRelativePath || file.name;
}

function baseName(path) {
  return path.split("/").pop();
}

function isManifest(value) {
  return Array.isArray(value) && value.length > 0 && value.every((e) => e && typeof e === "object" && typeof e.filename === "string" && "name" in e);
}

// [{label, document}] to send, and [{label, message}] refused here (a script the manifest
// names but that was not chosen).
export async function documentsOf(files) {
  const byName = new Map(files.map((file) => [baseName(pathOf(file)), file]));
  const usedScripts = new Set();
  const documents = [];
  const missing = [];
  for (const file of files.filter((f) => /\.json$/i.test(f.name))) {
    let parsed = null;
    try {
      parsed = JSON.parse(await file.text());
    } catch {
      continue; // not JSON: the engine says what is wrong with it below
    }
    if (!isManifest(parsed)) continue;
    usedScripts.add(file);
    for (const entry of parsed) {
      const script = byName.get(entry.filename);
      if (!script) {
        missing.push({ label: String(entry.name), message: S.importer.missingScript(entry.filename, file.name) });
        continue;
      }
      usedScripts.add(script);
      documents.push({ label: String(entry.name), document: { document: entry, script_base64: await fileBase64(script), file_name: entry.filename } });
    }
  }
  for (const file of files) {
    if (usedScripts.has(file)) continue;
    documents.push({ label: pathOf(file), document: { document_base64: await fileBase64(file), file_name: pathOf(file) } });
  }
  return { documents, missing };
}

// One result per document, in order ({status, message?, would_create?, assembly_guid?}).
export async function importBatch(documents, domain, dryRun) {
  const results = [];
  for (let start = 0; start < documents.length; start += CHUNK) {
    const chunk = documents.slice(start, start + CHUNK).map((d) => d.document);
    const answer = await Assemblies.importBatch(chunk, domain, dryRun);
    results.push(...answer.results);
  }
  return results;
}
