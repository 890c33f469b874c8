import MenuItem from "@mui/material/MenuItem";
import TextField from "@mui/material/TextField";
import S from "../strings.js";
import { CHECK_FILTERS } from "../listAddress.js";

// The grid's filter on the stored script check (Docs/script-checks.md): errors, clean, or
// not checked yet.

export default function ChecksFilter({ value, onChange }) {
  return (
    <TextField
      select
      size="small"
      label={S.checks.filter}
      value={value || ""}
      onChange={(e) => onChange(e.target.value || null)}
      sx={{ minWidth: { xs: 0, md: 150 }, flex: { xs: "1 1 calc(50% - 4px)", sm: 1, md: "none" } }}
      slotProps={{ select: { displayEmpty: true, SelectDisplayProps: { "data-testid": "checks-filter" } }, inputLabel: { shrink: true } }}
    >
      <MenuItem value="" data-testid="checks-option-all">{S.checks.filters.all}</MenuItem>
      {CHECK_FILTERS.map((f) => (
        <MenuItem key={f} value={f} data-testid={`checks-option-${f}`}>
          {S.checks.filters[f]}
        </MenuItem>
      ))}
    </TextField>
  );
}
