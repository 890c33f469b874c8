// The editor's Import: the engine parses the file (dry run: nothing is created) and
// answers what it would create; the form shows that as a NEW assembly (new GUID on save).
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { fileBase64, formFromRecord } from "../assemblyForm.js";

// {form, imported} for the editor, or throws an Error with a sentence for the user.
export async function readImport(file) {
  try {
    const documentBase64 = await fileBase64(file);
    const { would_create: preview } = await Assemblies.previewImport(documentBase64, "user", file.name);
    const parsed = formFromRecord(preview);
    const form = { ...parsed, domain: "user", files: (preview.payload.files || []).map((f) => ({ ...f })) };
    return { form, imported: { documentBase64, fileName: file.name, form } };
  } catch (err) {
    const refused = err.status === 422 && ["invalid_document", "not_an_assembly"].includes(err.code);
    throw new Error(refused ? S.editor.importInvalid(err.message) : err.message);
  }
}
