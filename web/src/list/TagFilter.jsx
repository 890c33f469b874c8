// The tag filter beside the list: the most used tags as chips with counts (the facets' tag
// counts, following the other filters); a click shows only that tag, again shows all.
import Box from "@mui/material/Box";
import Chip from "@mui/material/Chip";
import Typography from "@mui/material/Typography";
import S from "../strings.js";
import { formatCount } from "../format.js";

export default function TagFilter({ tagCounts, tag, onTag }) {
  const tags = Object.entries(tagCounts || {});
  return (
    <Box data-testid="tag-filter">
      <Typography variant="overline" color="text.secondary" component="h2" sx={{ px: 1, lineHeight: 2 }}>
        {S.organise.tags}
      </Typography>
      {tags.length === 0 ? (
        <Typography variant="body2" color="text.secondary" sx={{ px: 1 }}>{S.organise.noTags}</Typography>
      ) : (
        <Box sx={{ display: "flex", flexWrap: "wrap", gap: 0.75, px: 1 }}>
          {tags.map(([name, count]) => (
            <Chip
              key={name}
              size="small"
              clickable
              variant={tag === name ? "filled" : "outlined"}
              color={tag === name ? "primary" : "default"}
              aria-pressed={tag === name}
              title={S.organise.tagFilter(name)}
              data-testid={`tag-option-${name}`}
              data-count={count}
              onClick={() => onTag(tag === name ? null : name)}
              label={
                <span>
                  {name}{" "}
                  <Box component="span" sx={{ opacity: 0.75, fontVariantNumeric: "tabular-nums" }}>{formatCount(count)}</Box>
                </span>
              }
              sx={{ maxWidth: "100%" }}
            />
          ))}
        </Box>
      )}
    </Box>
  );
}
