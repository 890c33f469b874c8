import { useEffect, useState } from "react";
import TextField from "@mui/material/TextField";
import S from "../strings.js";

export function parseSites(text) {
  return text.split(",").map((v) => v.trim()).filter(Boolean);
}

// Site names, comma separated. The text is kept as typed (so "Main Office" keeps its
// space); the values are the trimmed, non-empty pieces.
export default function SitesField({ values, onChange }) {
  const [text, setText] = useState(values.join(", "));
  useEffect(() => {
    // Values replaced from outside (a reload, an import): show them.
    setText((current) => (JSON.stringify(parseSites(current)) === JSON.stringify(values) ? current : values.join(", ")));
  }, [values]);
  return (
    <TextField
      size="small"
      label={S.editor.siteValues}
      value={text}
      sx={{ flex: 1, minWidth: 180 }}
      slotProps={{ htmlInput: { "data-testid": "field-sites" } }}
      onChange={(event) => {
        setText(event.target.value);
        onChange(parseSites(event.target.value));
      }}
    />
  );
}
