// The list's header: title, domain chips with counts and the Deleted view, the kind,
// category, vendor and script-check filters, the quick search and "New Assembly". It wraps
// instead of overflowing: on wide screens title and chips share the first row; filters,
// search, "New" and Import the second. On a phone the filters go two to a row.
import { memo, useState } from "react";
import Box from "@mui/material/Box";
import Stack from "@mui/material/Stack";
import Chip from "@mui/material/Chip";
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import TextField from "@mui/material/TextField";
import Typography from "@mui/material/Typography";
import { useTheme } from "@mui/material/styles";
import VendorFilter from "../components/VendorFilter.jsx";
import ChecksFilter from "../components/ChecksFilter.jsx";
import SearchBox from "./SearchBox.jsx";
import AddIcon from "@mui/icons-material/Add";
import DeleteOutlinedIcon from "@mui/icons-material/DeleteOutlined";
import FileUploadIcon from "@mui/icons-material/FileUpload";
import S from "../strings.js";
import { navigate } from "../router.js";
import { DOMAIN_COLORS } from "../theme.js";
import { formatCount } from "../format.js";
import { DOMAINS, KINDS } from "../listAddress.js";

function DomainChip({ id, label, selected, count, narrow, onClick }) {
  const theme = useTheme();
  const color = DOMAIN_COLORS[id]?.[theme.palette.mode];
  return (
    <Chip
      clickable
      disableRipple
      size={narrow ? "small" : "medium"}
      data-testid={`domain-chip-${id}`}
      data-count={count ?? ""}
      aria-pressed={selected}
      onClick={onClick}
      variant={selected ? "filled" : "outlined"}
      color={selected && !color ? "primary" : "default"}
      label={
        <span>
          {label}{" "}
          <Box component="span" data-testid="chip-count" sx={{ opacity: 0.8, fontVariantNumeric: "tabular-nums" }}>
            {formatCount(count)}
          </Box>
        </span>
      }
      sx={
        color
          ? selected
            ? { bgcolor: color, color: theme.palette.getContrastText(color), "&:hover, &.Mui-focusVisible": { bgcolor: color } }
            : { borderColor: color, color }
          : undefined
      }
    />
  );
}

function ImportButton({ narrow, onOpen }) {
  if (narrow) {
    return (
      <IconButton onClick={onOpen} aria-label={S.importer.button} title={S.importer.button} data-testid="list-import" color="primary">
        <FileUploadIcon />
      </IconButton>
    );
  }
  return (
    <Button variant="outlined" size={narrow ? "small" : "medium"} startIcon={<FileUploadIcon />} onClick={onOpen}
      data-testid="list-import" sx={{ whiteSpace: "nowrap", flexShrink: 0 }}>
      {S.importer.button}
    </Button>
  );
}

function NewButton({ narrow, onOpen }) {
  return (
    <Button variant="contained" size={narrow ? "small" : "medium"} startIcon={<AddIcon />} onClick={(e) => onOpen(e.currentTarget)}
      data-testid="new-assembly" sx={{ whiteSpace: "nowrap", flexShrink: 0 }}>
      {S.list.newAssembly}
    </Button>
  );
}

function ListHeader({ list, facets, narrow, onImport }) {
  const { deleted, domain, kind, category } = list;
  const [newMenu, setNewMenu] = useState(null);
  const counts = facets ? { all: facets.total, ...facets.domain } : {};
  const kindCounts = facets?.kind || {};
  const categoryCounts = facets?.category || {};
  const categories = Object.keys(categoryCounts);
  if (category !== null && !categories.includes(category)) categories.push(category);
  const chip = (id, label) => (
    <DomainChip key={id} id={id} label={label} selected={(domain || "all") === id} count={counts[id]} narrow={narrow}
      onClick={() => list.setDomain(id === "all" ? null : id)} />
  );

  return (
    <Stack spacing={1.5} sx={{ minWidth: 0 }} data-testid="list-header">
      <Stack direction="row" sx={{ alignItems: "center", flexWrap: "wrap", gap: { xs: 1, md: 1.5 }, minWidth: 0 }}>
        <Typography variant="h5" component="h1" sx={{ fontWeight: 700, mr: 1, flex: { xs: 1, md: "none" } }}>
          {S.list.title}
        </Typography>
        {narrow && <ImportButton narrow onOpen={onImport} />}
        {narrow && <NewButton narrow onOpen={setNewMenu} />}
        <Stack direction="row" spacing={1} sx={{ flexWrap: "wrap", rowGap: 1, minWidth: 0, flexBasis: { xs: "100%", md: "auto" } }} data-testid="domain-chips">
          {chip("all", S.domains.all)}
          {DOMAINS.map((d) => chip(d, S.domains[d]))}
          <Chip
            clickable
            disableRipple
            size={narrow ? "small" : "medium"}
            icon={<DeleteOutlinedIcon />}
            label={S.list.deletedView}
            title={S.list.deletedViewHelp}
            aria-pressed={deleted}
            variant={deleted ? "filled" : "outlined"}
            color={deleted ? "error" : "default"}
            onClick={list.switchView}
            data-testid="deleted-view"
          />
        </Stack>
      </Stack>
      <Stack direction="row" sx={{ alignItems: "center", flexWrap: "wrap", gap: 1, minWidth: 0 }}>
        <TextField
          select
          size="small"
          label={S.list.kindFilter}
          value={kind || ""}
          onChange={(e) => list.setKind(e.target.value || null)}
          sx={{ minWidth: { xs: 0, md: 140 }, flex: { xs: "1 1 calc(50% - 4px)", sm: 1, md: "none" } }}
          slotProps={{ select: { displayEmpty: true, SelectDisplayProps: { "data-testid": "kind-filter" } }, inputLabel: { shrink: true } }}
        >
          <MenuItem value="" data-testid="kind-option-all">{S.list.allKinds}</MenuItem>
          {KINDS.map((k) => (
            <MenuItem key={k} value={k} data-testid={`kind-option-${k}`}>
              {deleted ? S.kinds[k] : S.list.withCount(S.kinds[k], formatCount(kindCounts[k]))}
            </MenuItem>
          ))}
        </TextField>
        <TextField
          select
          size="small"
          label={S.list.categoryFilter}
          value={category ?? "\u0000all"}
          onChange={(e) => list.setCategory(e.target.value === "\u0000all" ? null : e.target.value)}
          sx={{ minWidth: { xs: 0, md: 170 }, maxWidth: { md: 240 }, flex: { xs: "1 1 calc(50% - 4px)", sm: 1, md: "none" } }}
          slotProps={{ select: { SelectDisplayProps: { "data-testid": "category-filter" } }, inputLabel: { shrink: true } }}
        >
          <MenuItem value={"\u0000all"} data-testid="category-option-all">{S.list.allCategories}</MenuItem>
          {categories.map((c) => (
            <MenuItem key={c} value={c} data-testid={`category-option-${c}`}>
              {deleted ? c || S.list.noCategory : S.list.withCount(c || S.list.noCategory, formatCount(categoryCounts[c] ?? 0))}
            </MenuItem>
          ))}
        </TextField>
        {!deleted && <VendorFilter value={list.vendor} onChange={list.setVendor} />}
        {/* Deleted and Favourites rows carry no check results: no filter there. */}
        {!deleted && !list.favourites && <ChecksFilter value={list.checks} onChange={list.setChecks} />}
        <SearchBox initial={list.q} onSearch={list.setSearch} />
        {/* After the search in the tab order: search, New Assembly, Import, then the grid. */}
        <Box sx={{ flex: 1, display: { xs: "none", md: "block" } }} />
        {!narrow && <NewButton onOpen={setNewMenu} />}
        {!narrow && <ImportButton onOpen={onImport} />}
      </Stack>
      <Menu anchorEl={newMenu} open={Boolean(newMenu)} onClose={() => setNewMenu(null)}>
        {KINDS.map((k) => (
          <MenuItem key={k} data-testid={`new-${k}`} onClick={() => { setNewMenu(null); navigate(`/assemblies/new/${k}`); }}>
            {S.kinds[k]}
          </MenuItem>
        ))}
      </Menu>
    </Stack>
  );
}

// Memoised: the list page re-renders often (counts arriving, selections); this only when its props change.
export default memo(ListHeader);
