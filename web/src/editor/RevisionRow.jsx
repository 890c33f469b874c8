// One kept revision in the History panel: who, when, what made it and what it changed.
// The row opens the comparison; its box picks it for comparing two revisions.
import Box from "@mui/material/Box";
import Checkbox from "@mui/material/Checkbox";
import Chip from "@mui/material/Chip";
import ListItemButton from "@mui/material/ListItemButton";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import S from "../strings.js";
import { formatTime } from "../format.js";

export default function RevisionRow({ item, picked, onPick, onOpen }) {
  return (
    <Box sx={{ display: "flex", alignItems: "center", borderBottom: 1, borderColor: "divider" }}>
      <Checkbox size="small" checked={picked} onChange={() => onPick(item)} sx={{ ml: 0.5 }}
        slotProps={{ input: { "aria-label": S.history.pick(item.revision), "data-testid": "history-pick" } }} />
      <ListItemButton
        onClick={() => onOpen(item)}
        data-testid="history-item"
        data-revision={item.revision}
        title={S.history.open(item.revision)}
        sx={{ display: "grid", gridTemplateColumns: { xs: "1fr", md: "minmax(150px, 0.8fr) 1.2fr 2fr" }, gap: { xs: 0.5, md: 2 }, alignItems: "center", py: 1, pl: 0.5 }}
      >
        <Stack direction="row" spacing={1} sx={{ alignItems: "center" }}>
          <Typography variant="body2" sx={{ fontWeight: 700, fontVariantNumeric: "tabular-nums" }}>
            {S.editor.revision(item.revision)}
          </Typography>
          {item.is_current && <Chip size="small" color="primary" variant="outlined" label={S.history.current} data-testid="history-current" />}
        </Stack>
        <Typography variant="body2" color="text.secondary" data-testid="history-who">
          {S.history.actions[item.action] || item.action} · {S.dialogs.changedBy(formatTime(item.updated_at), item.updated_by)}
        </Typography>
        <Stack direction="row" sx={{ flexWrap: "wrap", gap: 0.5 }} data-testid="history-changed">
          {item.changed_fields.length
            ? item.changed_fields.map((field) => (
              <Chip key={field} size="small" label={S.history.fields[field] || field} sx={{ height: 22, fontSize: 12 }} />
            ))
            : <Typography variant="body2" color="text.secondary">{S.history.nothingChanged}</Typography>}
        </Stack>
      </ListItemButton>
    </Box>
  );
}
