// An assembly's tags as small chips (list rows); a click filters the list by that tag.
import Chip from "@mui/material/Chip";
import Stack from "@mui/material/Stack";
import S from "../strings.js";

// max: how many chips show before a "+n" chip (its title lists the rest).
export default function TagChips({ tags, max = 2, onPick }) {
  if (!tags || tags.length === 0) return null;
  const shown = tags.slice(0, max);
  const rest = tags.slice(max);
  return (
    <Stack direction="row" spacing={0.5} sx={{ flexShrink: 1, minWidth: 0, overflow: "hidden" }} data-testid="tag-chips">
      {shown.map((tag) => (
        <Chip
          key={tag}
          size="small"
          variant="outlined"
          label={tag}
          title={S.organise.tagFilter(tag)}
          data-testid="tag-chip"
          onClick={onPick ? (event) => { event.stopPropagation(); onPick(tag); } : undefined}
          sx={{ height: 20, fontSize: 12, maxWidth: 120, "& .MuiChip-label": { px: 0.75 } }}
        />
      ))}
      {rest.length > 0 && (
        <Chip size="small" label={S.organise.moreTags(rest.length)} title={rest.join(", ")}
          sx={{ height: 20, fontSize: 12, "& .MuiChip-label": { px: 0.75 } }} />
      )}
    </Stack>
  );
}
