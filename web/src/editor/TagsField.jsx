// The editor's tags: chips typed in (Enter or a comma ends one), removed with their ×;
// read-only forms show them as plain chips. The engine bounds them (Docs/assemblies.md).
import Autocomplete from "@mui/material/Autocomplete";
import Chip from "@mui/material/Chip";
import Stack from "@mui/material/Stack";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import S from "../strings.js";

const MAX_TAGS = 50;
const MAX_TAG_CHARS = 64;

// Trimmed, non-empty, each once, in the order typed.
function cleaned(values) {
  const seen = new Set();
  const tags = [];
  for (const value of values.flatMap((v) => String(v).split(","))) {
    const tag = value.trim().slice(0, MAX_TAG_CHARS);
    if (tag && !seen.has(tag)) {
      seen.add(tag);
      tags.push(tag);
    }
  }
  return tags.slice(0, MAX_TAGS);
}

export function ReadOnlyTags({ tags }) {
  return (
    <Stack spacing={0.5} data-testid="text-tags">
      <Typography variant="caption" color="text.secondary">{S.organise.tagsField}</Typography>
      <Stack direction="row" sx={{ flexWrap: "wrap", gap: 0.5 }}>
        {(tags || []).length === 0 ? <Typography variant="body2">—</Typography> : tags.map((tag) => <Chip key={tag} size="small" label={tag} />)}
      </Stack>
    </Stack>
  );
}

export default function TagsField({ tags, onChange, sx }) {
  return (
    <Autocomplete
      multiple
      freeSolo
      options={[]}
      autoSelect
      data-testid="tags-field"
      value={tags || []}
      onChange={(_, values) => onChange(cleaned(values))}
      sx={sx}
      renderValue={(values, getItemProps) =>
        values.map((tag, index) => {
          const { key, ...props } = getItemProps({ index });
          return <Chip key={key} size="small" label={tag} data-testid="tag-value" {...props} />;
        })
      }
      renderInput={(params) => (
        <TextField
          {...params}
          label={S.organise.tagsField}
          helperText={S.organise.tagsHelp}
          slotProps={{ ...params.slotProps, htmlInput: { ...params.slotProps.htmlInput, "data-testid": "field-tags", maxLength: MAX_TAG_CHARS } }}
        />
      )}
    />
  );
}
