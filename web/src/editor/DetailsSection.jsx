// The editor's Details block: name, type, category, description, domain (new forms in
// Dev Mode), timeout and sites; plain text when the form is read-only.
import Box from "@mui/material/Box";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import TextField from "@mui/material/TextField";
import MenuItem from "@mui/material/MenuItem";
import ToggleButton from "@mui/material/ToggleButton";
import ToggleButtonGroup from "@mui/material/ToggleButtonGroup";
import S from "../strings.js";
import { TYPES_BY_KIND } from "../assemblyForm.js";
import ReadOnlyField from "./ReadOnlyField.jsx";
import SitesField from "./SitesField.jsx";
import Section from "./Section.jsx";
import TagsField, { ReadOnlyTags } from "./TagsField.jsx";

const GRID = { display: "grid", gap: 2, gridTemplateColumns: { xs: "1fr", md: "2fr 1fr 1fr" } };

function ReadOnlyDetails({ form }) {
  return (
    <Box sx={GRID} data-testid="read-only-details">
      <ReadOnlyField label={S.editor.name} value={form.display_name} testId="text-name" />
      <ReadOnlyField label={S.editor.type} value={S.types[form.assembly_type] || form.assembly_type} testId="text-type" />
      <ReadOnlyField label={S.editor.category} value={form.category} testId="text-category" />
      <ReadOnlyField label={S.editor.description} value={form.summary} testId="text-description" sx={{ gridColumn: { md: "1 / span 3" } }} />
      <Box sx={{ gridColumn: { md: "1 / span 3" } }}><ReadOnlyTags tags={form.tags} /></Box>
      {form.assembly_kind !== "workflow" && (
        <>
          <ReadOnlyField label={S.editor.timeout} value={form.timeout_seconds} testId="text-timeout" />
          <ReadOnlyField
            label={S.editor.sites}
            testId="text-sites"
            value={form.sites.mode === "specific" ? form.sites.values.join(", ") : S.editor.sitesAll}
            sx={{ gridColumn: { md: "2 / span 2" } }}
          />
        </>
      )}
    </Box>
  );
}

// domains: where a new form may be created (shown only when there is a choice to make).
export default function DetailsSection({ form, set, readOnly, isNew, domains }) {
  if (readOnly) {
    return (
      <Section title={S.editor.details} testId="details">
        <ReadOnlyDetails form={form} />
      </Section>
    );
  }
  const onInput = (key) => (event) => set(key)(event.target.value);
  return (
    <Section title={S.editor.details} testId="details">
      <Box sx={GRID}>
        <TextField label={S.editor.name} value={form.display_name} onChange={onInput("display_name")} required autoFocus={isNew}
          slotProps={{ htmlInput: { "data-testid": "field-name", maxLength: 200 } }} />
        <TextField select label={S.editor.type} value={form.assembly_type} onChange={onInput("assembly_type")} disabled={TYPES_BY_KIND[form.assembly_kind].length < 2}
          slotProps={{ select: { SelectDisplayProps: { "data-testid": "field-type" } } }}>
          {TYPES_BY_KIND[form.assembly_kind].map((t) => (
            <MenuItem key={t} value={t} data-testid={`type-${t}`}>
              {S.types[t]}
            </MenuItem>
          ))}
        </TextField>
        <TextField label={S.editor.category} value={form.category} onChange={onInput("category")}
          slotProps={{ htmlInput: { "data-testid": "field-category", maxLength: 200 } }} />
        <TextField label={S.editor.description} value={form.summary} onChange={onInput("summary")} multiline minRows={2}
          sx={{ gridColumn: { md: "1 / span 2" } }} slotProps={{ htmlInput: { "data-testid": "field-description" } }} />
        <TagsField tags={form.tags} onChange={set("tags")} sx={{ gridColumn: { md: "1 / span 3" } }} />
        {domains ? (
          <TextField select label={S.editor.domain} value={form.domain} onChange={onInput("domain")}
            slotProps={{ select: { SelectDisplayProps: { "data-testid": "field-domain" } } }}>
            {domains.map((d) => (
              <MenuItem key={d} value={d} data-testid={`domain-${d}`}>
                {S.domains[d]}
              </MenuItem>
            ))}
          </TextField>
        ) : (
          <Box sx={{ display: { xs: "none", md: "block" } }} />
        )}
        {form.assembly_kind !== "workflow" && (
          <>
            <TextField label={S.editor.timeout} value={form.timeout_seconds} onChange={onInput("timeout_seconds")}
              slotProps={{ htmlInput: { inputMode: "numeric", "data-testid": "field-timeout" } }} />
            <Stack direction="row" spacing={1.5} sx={{ alignItems: "center", flexWrap: "wrap", rowGap: 1, gridColumn: { md: "2 / span 2" } }}>
              <Typography variant="body2" color="text.secondary">{S.editor.sites}</Typography>
              <ToggleButtonGroup size="small" exclusive value={form.sites.mode} onChange={(_, mode) => mode && set("sites")({ ...form.sites, mode })}>
                <ToggleButton value="all" data-testid="sites-all">{S.editor.sitesAll}</ToggleButton>
                <ToggleButton value="specific" data-testid="sites-specific">{S.editor.sitesSpecific}</ToggleButton>
              </ToggleButtonGroup>
              {form.sites.mode === "specific" && (
                <SitesField values={form.sites.values} onChange={(values) => set("sites")({ ...form.sites, values })} />
              )}
            </Stack>
          </>
        )}
      </Box>
    </Section>
  );
}
