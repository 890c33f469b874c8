import MenuItem from "@mui/material/MenuItem";
import TextField from "@mui/material/TextField";
import S from "../strings.js";
import { VENDOR_FILTERS } from "../listAddress.js";

// The grid's filter on what the vendor did (upstream) and the signature (Docs/official-library.md).

export default function VendorFilter({ value, onChange }) {
  return (
    <TextField
      select
      size="small"
      label={S.upstream.filter}
      value={value || ""}
      onChange={(e) => onChange(e.target.value || null)}
      sx={{ minWidth: { xs: 0, md: 160 }, flex: { xs: "1 1 calc(50% - 4px)", sm: 1, md: "none" } }}
      slotProps={{ select: { displayEmpty: true, SelectDisplayProps: { "data-testid": "vendor-filter" } }, inputLabel: { shrink: true } }}
    >
      <MenuItem value="" data-testid="vendor-option-all">{S.upstream.filters.all}</MenuItem>
      {VENDOR_FILTERS.map((f) => (
        <MenuItem key={f} value={f} data-testid={`vendor-option-${f}`}>
          {S.upstream.filters[f]}
        </MenuItem>
      ))}
    </TextField>
  );
}
