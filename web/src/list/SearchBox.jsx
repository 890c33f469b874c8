// The list's quick search. What is typed stays in this box (a keystroke re-renders the box
// alone, not the page); the list gets the trimmed text once typing pauses (DEBOUNCE_MS).
import { useEffect, useRef, useState } from "react";
import TextField from "@mui/material/TextField";
import InputAdornment from "@mui/material/InputAdornment";
import SearchIcon from "@mui/icons-material/Search";
import S from "../strings.js";

export const DEBOUNCE_MS = 300;

const SX = { flex: { xs: "1 1 100%", md: "1 1 260px" }, maxWidth: { md: 520 }, minWidth: 0 };
const SLOT_PROPS = {
  htmlInput: { "data-testid": "quick-search", "aria-label": S.list.search },
  input: {
    startAdornment: (
      <InputAdornment position="start">
        <SearchIcon fontSize="small" />
      </InputAdornment>
    ),
  },
};

// initial: the search in the address; onSearch(text): called with the trimmed text.
export default function SearchBox({ initial, onSearch }) {
  const [text, setText] = useState(initial);
  const latest = useRef(onSearch);
  latest.current = onSearch;
  useEffect(() => {
    const timer = window.setTimeout(() => latest.current(text.trim()), DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [text]);
  return (
    <TextField size="small" placeholder={S.list.search} value={text} onChange={(e) => setText(e.target.value)} sx={SX} slotProps={SLOT_PROPS} />
  );
}
