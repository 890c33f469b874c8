import { useMemo } from "react";
import CodeMirror from "@uiw/react-codemirror";
import { EditorView } from "@codemirror/view";
import Box from "@mui/material/Box";
import { useTheme } from "@mui/material/styles";
import { MONO_FONTS } from "../theme.js";
import { languageFor } from "./languages.js";

// CodeMirror 6 with highlighting for the assembly type, following the light/dark theme.
export default function CodeEditor({ value, onChange, type, readOnly, height = "380px", testId = "code-editor" }) {
  const theme = useTheme();
  const extensions = useMemo(
    () => [
      languageFor(type),
      EditorView.lineWrapping,
      EditorView.theme({ "&": { fontSize: "13px" }, ".cm-scroller": { fontFamily: MONO_FONTS } }),
    ],
    [type],
  );
  return (
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
  );
}
