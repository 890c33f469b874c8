// What stops a save before it is sent: the first problem as a sentence, or null.
import S from "../strings.js";
import { parseWorkflow } from "../assemblyForm.js";
import { variableProblems } from "./VariablesTable.jsx";

export function validate(form) {
  if (!form.display_name.trim()) return S.editor.nameRequired;
  if (form.assembly_kind !== "workflow") {
    const problems = Object.values(variableProblems(form.variables));
    if (problems.length) return problems[0];
  }
  if (form.assembly_kind !== "workflow" && String(form.timeout_seconds).trim() !== "" && !/^\d+$/.test(String(form.timeout_seconds).trim())) {
    return S.editor.timeoutInvalid;
  }
  if (form.assembly_kind === "workflow" && !parseWorkflow(form.workflowText)) return S.editor.invalidWorkflow;
  return null;
}
