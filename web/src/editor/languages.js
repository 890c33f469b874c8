// Syntax highlighting by assembly type for the code editor.
import { StreamLanguage } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { yaml } from "@codemirror/lang-yaml";
import { json } from "@codemirror/lang-json";
import { powerShell } from "@codemirror/legacy-modes/mode/powershell";
import { shell } from "@codemirror/legacy-modes/mode/shell";

const BATCH_KEYWORDS = new Set(
  ("echo set setlocal endlocal if else goto call exit for in do not exist defined errorlevel " +
    "equ neq lss leq gtr geq pause shift start cd chdir pushd popd md mkdir rd rmdir del erase copy " +
    "xcopy move ren rename type cls title color choice timeout where findstr find").split(" "),
);

// Windows batch files: REM/:: comments, :labels, %variables% and !delayed! expansion,
// quoted strings and the common commands. (No ready-made mode exists for batch.)
const batchParser = {
  name: "batch",
  startState: () => ({}),
  token(stream) {
    if (stream.sol()) {
      stream.eatSpace();
      if (stream.match(/^@?rem(\s|$)/i) || stream.match("::")) {
        stream.skipToEnd();
        return "comment";
      }
      if (stream.match(/^:[A-Za-z_][\w.-]*/)) return "labelName";
    }
    if (stream.eatSpace()) return null;
    if (stream.match(/^%%~?[A-Za-z]/) || stream.match(/^%~?[0-9*]/) || stream.match(/^%[^%\s]+%/) || stream.match(/^![^!\s]+!/)) {
      return "variableName";
    }
    if (stream.peek() === '"') {
      stream.next();
      while (!stream.eol()) {
        if (stream.next() === '"') break;
      }
      return "string";
    }
    if (stream.match(/^[0-9]+\b/)) return "number";
    if (stream.match(/^(>>?|<|\||&&?|\(|\)|==)/)) return "operator";
    const word = stream.match(/^@?[A-Za-z_][\w.-]*/);
    if (word) return BATCH_KEYWORDS.has(word[0].replace(/^@/, "").toLowerCase()) ? "keyword" : null;
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: "REM" } },
};

export function languageFor(type) {
  switch (type) {
    case "powershell":
      return StreamLanguage.define(powerShell);
    case "bash":
      return StreamLanguage.define(shell);
    case "batch":
      return StreamLanguage.define(batchParser);
    case "python":
      return python();
    case "ansible":
      return yaml();
    case "workflow":
    case "json":
      return json();
    default:
      return [];
  }
}
