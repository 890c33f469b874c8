import MenuItem from "@mui/material/MenuItem";
import TextField from "@mui/material/TextField";
import S from "../strings.js";

// The grid's filter on what the vendor did (upstream) and the signature (Docs/official-library.md).
const UPSTREAM = ["attention", "update_available", "removed_upstream", "deprecated"];
const SIGNATURE = ["modified", "unsigned", "verified"];
export const VENDOR_FILTERS = [...UPSTREAM, ...SIGNATURE];

// The list's query parameters for a filter value (null: no filter).
export function vendorParams(value) {
  if (UPSTREAM.includes(value)) return { upstream: value };
  if (SIGNATURE.includes(value)) return { signature: value };
  return {};
}

// ?vendor= in the address (the admin banner links to ?vendor=attention).
export function vendorFromUrl() {
  const value = new URLSearchParams(window.location.search).get("vendor");
  return VENDOR_FILTERS.includes(value) ? value : null;
}

export default function VendorFilter({ value, onChange }) {
  return (
    <TextField
      select
      size="small"
      label={S.upstream.filter}
      value={value || ""}
      onChange={(e) => onChange(e.target.value || null)}
      sx={{ minWidth: { xs: 0, md: 160 }, flex: { xs: 1, md: "none" } }}
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
