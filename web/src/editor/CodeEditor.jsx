import { useMemo, useRef } from "react";
import CodeMirror from "@uiw/react-codemirror";
import { EditorView } from "@codemirror/view";
import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";
import S from "../strings.js";
import { useTheme } from "@mui/material/styles";
import { MONO_FONTS } from "../theme.js";
import { languageFor } from "./languages.js";
import { scriptChecks } from "./scriptChecks.js";

// CodeMirror 6 with highlighting for the assembly type, following the light/dark theme.
// Tab indents while editing; Esc then Tab leaves the editor (CodeMirror's own escape
// hatch), which the hint under it says.
// With onChecked, the draft is checked as it is typed (scriptChecks.js) and each answer
// is passed on; a read-only view is not checked.
export default function CodeEditor({ value, onChange, type, readOnly, height = "380px", testId = "code-editor", onChecked }) {
  const theme = useTheme();
  const checked = useRef(onChecked);
  checked.current = onChecked;
  const checking = Boolean(onChecked) && !readOnly;
  const extensions = useMemo(
    () => [
      languageFor(type),
      ...(checking ? scriptChecks(type, (answer) => checked.current?.(answer)) : []),
      EditorView.lineWrapping,
      // Esc, then Tab within two seconds, moves focus out instead of indenting.
      // (An observer: it sees the key even when another binding handles Escape.)
      EditorView.domEventObservers({
        keydown: (event, view) => {
          if (event.key === "Escape") view.setTabFocusMode(2000);
        },
      }),
      EditorView.theme({
        "&": { fontSize: "13px" },
        "&.cm-focused": { outline: `2px solid ${theme.palette.primary.main}`, outlineOffset: "-2px" },
        ".cm-scroller": { fontFamily: MONO_FONTS },
      }),
    ],
    [type, checking, theme.palette.primary.main],
  );
  return (
    <>
    <Box
      data-testid={testId}
      data-language={type}
      sx={{ border: 1, borderColor: "divider", borderRadius: 1, overflow: "hidden" }}
    >
      <CodeMirror
        value={value}
        height={height}
        theme={theme.palette.mode === "dark" ? "dark" : "light"}
        extensions={extensions}
        editable={!readOnly}
        readOnly={readOnly}
        onChange={onChange}
        basicSetup={{ foldGutter: true, highlightActiveLine: !readOnly }}
      />
    </Box>
    {!readOnly && (
      <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 0.75, mb: 0 }} data-testid="code-editor-hint">
        {S.editor.codeHint}
      </Typography>
    )}
    </>
  );
}
