// Ctrl+K (Cmd+K) from any page: type part of a name, arrows pick, Enter opens the assembly.
import { useEffect, useState } from "react";
import Dialog from "@mui/material/Dialog";
import List from "@mui/material/List";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemText from "@mui/material/ListItemText";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { navigate } from "../router.js";

const LIMIT = 8;

export default function CommandPalette() {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [items, setItems] = useState([]);
  const [active, setActive] = useState(0);

  useEffect(() => {
    const onKey = (event) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        setOpen(true);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // Debounced like the list's search; a late answer for older text is dropped.
  useEffect(() => {
    if (!open) return undefined;
    let current = true;
    const timer = window.setTimeout(async () => {
      try {
        const page = await Assemblies.list({ q: text.trim(), limit: LIMIT, sort: "display_name", order: "asc" });
        if (current) {
          setItems(page.items);
          setActive(0);
        }
      } catch {
        if (current) setItems([]);
      }
    }, 150);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [open, text]);

  const close = () => {
    setOpen(false);
    setText("");
  };
  const go = (item) => {
    if (!item) return;
    close();
    navigate(`/assemblies/${item.assembly_guid}`);
  };
  const onKeyDown = (event) => {
    if (event.key === "ArrowDown") setActive((i) => Math.min(i + 1, items.length - 1));
    else if (event.key === "ArrowUp") setActive((i) => Math.max(i - 1, 0));
    else if (event.key === "Enter") go(items[active]);
    else return;
    event.preventDefault();
  };

  return (
    <Dialog open={open} onClose={close} fullWidth maxWidth="sm" data-testid="command-palette"
      slotProps={{ paper: { sx: { alignSelf: "flex-start", mt: { xs: 2, sm: 10 } } } }}>
      <TextField autoFocus fullWidth placeholder={S.palette.placeholder} value={text} onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown} slotProps={{ htmlInput: { "aria-label": S.palette.placeholder, "data-testid": "palette-input" } }}
        sx={{ "& fieldset": { border: "none" } }} />
      <List dense sx={{ pt: 0 }}>
        {items.map((item, index) => (
          <ListItemButton key={item.assembly_guid} selected={index === active} onClick={() => go(item)} data-testid="palette-item">
            <ListItemText primary={item.display_name} secondary={`${S.domains[item.source] || item.source} · ${item.category || S.list.noCategory}`} />
          </ListItemButton>
        ))}
        {!items.length && <Typography variant="body2" color="text.secondary" sx={{ px: 2, py: 1 }}>{S.palette.nothing}</Typography>}
      </List>
    </Dialog>
  );
}
