// Script checks in the editor (Docs/script-checks.md): CodeMirror's lint extension asks
// the engine's check route for the draft (debounced), draws the diagnostics in the gutter
// and as underlines, and hands the whole answer to the page for its problems list and the
// count beside Save.
import { linter, lintGutter } from "@codemirror/lint";
import { api } from "../api.js";

const CHECKED_TYPES = new Set(["powershell", "batch", "bash", "python", "ansible", "workflow"]);
// Typing pauses this long before a check is asked for: short enough that a typed error
// shows within a second, long enough not to check every keystroke.
const DELAY_MS = 250;

function position(doc, line, column) {
  const lineNumber = Math.min(Math.max(line, 1), doc.lines);
  const at = doc.line(lineNumber);
  return Math.min(at.from + Math.max(column - 1, 0), at.to);
}

// The engine's diagnostic (1-based line/column, an end) as CodeMirror's (document offsets).
export function toEditorDiagnostic(doc, d) {
  const from = position(doc, d.line, d.column);
  let to = position(doc, d.end_line ?? d.line, d.end_column ?? d.column);
  if (to <= from) to = Math.min(from + 1, doc.length);
  return { from, to: Math.max(to, from), severity: d.severity, message: `${d.message} [${d.code}]`, source: d.source };
}

function draft(type, text) {
  if (type !== "workflow") return { assembly_type: type, script: text };
  try {
    const workflow = JSON.parse(text);
    return workflow && typeof workflow === "object" && !Array.isArray(workflow) ? { assembly_type: type, workflow } : null;
  } catch {
    return null; // not JSON yet: nothing to ask
  }
}

export function scriptChecks(type, onChecked) {
  if (!CHECKED_TYPES.has(type)) return [];
  const source = async (view) => {
    const body = draft(type, view.state.doc.toString());
    if (!body) return [];
    try {
      const answer = await api("/api/assemblies/check", { method: "POST", body });
      onChecked?.(answer);
      return answer.diagnostics.map((d) => toEditorDiagnostic(view.state.doc, d));
    } catch {
      onChecked?.(null); // a refused or failed check shows nothing rather than stale marks
      return [];
    }
  };
  return [linter(source, { delay: DELAY_MS }), lintGutter()];
}
