import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { AgGridReact } from "ag-grid-react";
import {
  CellStyleModule,
  colorSchemeDark,
  colorSchemeLight,
  InfiniteRowModelModule,
  ModuleRegistry,
  PaginationModule,
  themeQuartz,
  TooltipModule,
} from "ag-grid-community";
import Box from "@mui/material/Box";
import Stack from "@mui/material/Stack";
import Chip from "@mui/material/Chip";
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Menu from "@mui/material/Menu";
import MenuItem from "@mui/material/MenuItem";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import TextField from "@mui/material/TextField";
import InputAdornment from "@mui/material/InputAdornment";
import Typography from "@mui/material/Typography";
import Link from "@mui/material/Link";
import { useTheme } from "@mui/material/styles";
import AddIcon from "@mui/icons-material/Add";
import SearchIcon from "@mui/icons-material/Search";
import MoreVertIcon from "@mui/icons-material/MoreVert";
import OpenInNewIcon from "@mui/icons-material/OpenInNew";
import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import EditIcon from "@mui/icons-material/Edit";
import DeleteIcon from "@mui/icons-material/Delete";
import FileDownloadIcon from "@mui/icons-material/FileDownload";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { navigate } from "../router.js";
import { mayWrite, useSession } from "../session.js";
import { DOMAIN_COLORS } from "../theme.js";
import DomainBadge from "../components/DomainBadge.jsx";
import DirtyPill from "../components/DirtyPill.jsx";
import TypeLabel from "../components/TypeLabel.jsx";
import { CloneDialog, DeleteDialog, RenameDialog } from "../components/Dialogs.jsx";
import { QUEUE_CHANGED } from "../components/DevModeBanner.jsx";

// Only the AG Grid features the list uses: server-side (infinite) rows, paging, tooltips.
// Registered here, so the grid loads with this page's chunk.
ModuleRegistry.registerModules([InfiniteRowModelModule, PaginationModule, TooltipModule, CellStyleModule]);

const PAGE_SIZE = 50;
const POLL_MS = 2000;
const DOMAINS = ["official", "community", "user"];
// Grid column → the API's sort key.
const SORT_FIELDS = {
  assembly_type: "assembly_type",
  source: "source",
  category: "category",
  display_name: "display_name",
  updated_at: "updated_at",
};

// The grid fills the window below its top edge (which moves when the Dev Mode banner shows).
function useFillHeight(ref, trigger) {
  const [height, setHeight] = useState(560);
  useLayoutEffect(() => {
    const measure = () => {
      const top = ref.current ? ref.current.getBoundingClientRect().top + window.scrollY : 0;
      setHeight(Math.max(420, Math.floor(window.innerHeight - top - 24)));
    };
    measure();
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, [ref, trigger]);
  return height;
}

export function formatTime(iso) {
  if (!iso) return S.time.never;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function SourceCell({ data }) {
  if (!data) return null;
  return (
    <Stack direction="row" spacing={0.75} sx={{ alignItems: "center", height: "100%" }}>
      <DomainBadge domain={data.source} />
      {data.is_dirty && <DirtyPill />}
    </Stack>
  );
}

function NameCell({ data }) {
  if (!data) return <Typography variant="body2" color="text.secondary">{S.list.loading}</Typography>;
  const href = `/assemblies/${data.assembly_guid}`;
  return (
    <Link
      href={href}
      underline="hover"
      sx={{ fontWeight: 600 }}
      data-testid="assembly-name"
      onClick={(event) => {
        event.preventDefault();
        navigate(href);
      }}
    >
      {data.display_name}
    </Link>
  );
}

function ActionsCell({ data, context }) {
  if (!data) return null;
  return (
    <IconButton
      size="small"
      aria-label={S.list.rowMenu}
      data-testid="row-menu"
      onClick={(event) => context.openMenu(event.currentTarget, data)}
    >
      <MoreVertIcon fontSize="small" />
    </IconButton>
  );
}

export default function AssemblyList() {
  const session = useSession();
  const theme = useTheme();
  const gridRef = useRef(null);
  const gridBox = useRef(null);
  const gridHeight = useFillHeight(gridBox, session.devMode.enabled);
  const dirtyBlocks = useRef(new Map());
  const [domain, setDomain] = useState(null);
  const [search, setSearch] = useState("");
  const [q, setQ] = useState("");
  const [counts, setCounts] = useState({});
  const [menu, setMenu] = useState(null);
  const [newMenu, setNewMenu] = useState(null);
  const [cloning, setCloning] = useState(null);
  const [renaming, setRenaming] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const { notify } = session;

  // Debounced quick search.
  useEffect(() => {
    const timer = window.setTimeout(() => setQ(search.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  const loadCounts = useCallback(async () => {
    try {
      const results = await Promise.all(
        [null, ...DOMAINS].map((d) => Assemblies.list({ domain: d, limit: 1 }).then((r) => [d || "all", r.total])),
      );
      setCounts(Object.fromEntries(results));
    } catch (error) {
      notify({ text: error.message, severity: "error" });
    }
  }, [notify]);

  useEffect(() => {
    loadCounts();
  }, [loadCounts]);

  // A new datasource (new filter) makes the grid start again from the first page.
  const datasource = useMemo(() => {
    dirtyBlocks.current = new Map();
    return {
      getRows: async (params) => {
        const sort = params.sortModel?.[0];
        try {
          const result = await Assemblies.list({
            domain,
            q,
            offset: params.startRow,
            limit: params.endRow - params.startRow,
            sort: sort ? SORT_FIELDS[sort.colId] : "display_name",
            order: sort ? sort.sort : "asc",
          });
          dirtyBlocks.current.set(params.startRow, result.items.some((item) => item.is_dirty));
          params.successCallback(result.items, result.total);
        } catch (error) {
          params.failCallback();
          notify({ text: error.message, severity: "error" });
        }
      },
    };
  }, [domain, q, notify]);

  const refresh = useCallback(() => {
    gridRef.current?.api?.refreshInfiniteCache();
    loadCounts();
  }, [loadCounts]);

  // While any loaded row is dirty, re-read the page every ~2 s so the pill clears by itself.
  useEffect(() => {
    const timer = window.setInterval(() => {
      if ([...dirtyBlocks.current.values()].some(Boolean)) refresh();
    }, POLL_MS);
    window.addEventListener(QUEUE_CHANGED, refresh);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener(QUEUE_CHANGED, refresh);
    };
  }, [refresh]);

  const columnDefs = useMemo(
    () => [
      {
        colId: "assembly_type",
        field: "assembly_type",
        headerName: S.list.columns.type,
        width: 160,
        cellRenderer: ({ data }) => (data ? <TypeLabel type={data.assembly_type} /> : null),
      },
      {
        colId: "source",
        field: "source",
        headerName: S.list.columns.source,
        width: 310,
        cellRenderer: SourceCell,
      },
      { colId: "category", field: "category", headerName: S.list.columns.category, width: 160 },
      { colId: "display_name", field: "display_name", headerName: S.list.columns.name, flex: 3, minWidth: 200, cellRenderer: NameCell, tooltipField: "display_name" },
      {
        colId: "summary",
        field: "summary",
        headerName: S.list.columns.description,
        flex: 3,
        minWidth: 160,
        sortable: false,
        tooltipField: "summary",
      },
      {
        colId: "updated_at",
        field: "updated_at",
        headerName: S.list.columns.updated,
        width: 205,
        valueFormatter: ({ value }) => (value ? formatTime(value) : ""),
      },
      {
        colId: "actions",
        headerName: S.list.columns.actions,
        width: 60,
        sortable: false,
        resizable: false,
        cellStyle: { paddingLeft: 6, paddingRight: 6, display: "flex", alignItems: "center", justifyContent: "center" },
        cellRenderer: ActionsCell,
      },
    ],
    [],
  );

  const gridTheme = useMemo(
    () =>
      themeQuartz.withPart(theme.palette.mode === "dark" ? colorSchemeDark : colorSchemeLight).withParams({
        fontFamily: theme.typography.fontFamily,
        backgroundColor: theme.palette.background.paper,
        headerFontWeight: 600,
        fontSize: 14,
      }),
    [theme],
  );

  const context = useMemo(() => ({ openMenu: (anchor, data) => setMenu({ anchor, data }) }), []);
  const row = menu?.data;
  const closeMenu = () => setMenu(null);

  const doClone = async (assembly, target) => {
    const created = await Assemblies.clone(assembly.assembly_guid, target);
    setCloning(null);
    notify({ text: S.list.cloned(created.display_name, S.domains[target]) });
    refresh();
  };
  const doRename = async (assembly, name) => {
    await Assemblies.update(assembly.assembly_guid, { display_name: name }, assembly.revision);
    setRenaming(null);
    notify({ text: S.list.renamed(name) });
    refresh();
  };
  const doDelete = async (assembly) => {
    await Assemblies.remove(assembly.assembly_guid);
    setDeleting(null);
    notify({ text: S.list.deleted(assembly.display_name) });
    refresh();
  };
  const doExport = async (assembly) => {
    try {
      await Assemblies.exportFile(assembly.assembly_guid, assembly.display_name);
    } catch (error) {
      notify({ text: error.message, severity: "error" });
    }
  };

  const chip = (key, label) => {
    const selected = (domain || "all") === key;
    const color = DOMAIN_COLORS[key]?.[theme.palette.mode];
    return (
      <Chip
        key={key}
        clickable
        disableRipple
        data-testid={`domain-chip-${key}`}
        data-count={counts[key] ?? ""}
        onClick={() => setDomain(key === "all" ? null : key)}
        variant={selected ? "filled" : "outlined"}
        color={selected && !color ? "primary" : "default"}
        label={
          <span>
            {label}{" "}
            <Box component="span" data-testid="chip-count" sx={{ opacity: 0.8, fontVariantNumeric: "tabular-nums" }}>
              {counts[key] ?? "…"}
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
  };

  return (
    <Stack spacing={2} sx={{ flex: 1 }}>
      <Stack direction={{ xs: "column", md: "row" }} spacing={2} sx={{ alignItems: { md: "center" } }}>
        <Typography variant="h5" component="h1" sx={{ fontWeight: 700, mr: 1 }}>
          {S.list.title}
        </Typography>
        <Stack direction="row" spacing={1} sx={{ flexWrap: "wrap", rowGap: 1 }} data-testid="domain-chips">
          {chip("all", S.domains.all)}
          {DOMAINS.map((d) => chip(d, S.domains[d]))}
        </Stack>
        <Box sx={{ flex: 1 }} />
        <TextField
          size="small"
          placeholder={S.list.search}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          sx={{ minWidth: { md: 320 } }}
          slotProps={{
            htmlInput: { "data-testid": "quick-search", "aria-label": S.list.search },
            input: {
              startAdornment: (
                <InputAdornment position="start">
                  <SearchIcon fontSize="small" />
                </InputAdornment>
              ),
            },
          }}
        />
        <Button variant="contained" startIcon={<AddIcon />} onClick={(e) => setNewMenu(e.currentTarget)} data-testid="new-assembly">
          {S.list.newAssembly}
        </Button>
        <Menu anchorEl={newMenu} open={Boolean(newMenu)} onClose={() => setNewMenu(null)}>
          {["script", "workflow", "ansible"].map((kind) => (
            <MenuItem
              key={kind}
              data-testid={`new-${kind}`}
              onClick={() => {
                setNewMenu(null);
                navigate(`/assemblies/new/${kind}`);
              }}
            >
              {S.kinds[kind]}
            </MenuItem>
          ))}
        </Menu>
      </Stack>
      <Box ref={gridBox} sx={{ height: gridHeight, minHeight: 420 }} data-testid="assembly-grid">
          <AgGridReact
            ref={gridRef}
            theme={gridTheme}
            columnDefs={columnDefs}
            defaultColDef={{ sortable: true, resizable: true }}
            rowModelType="infinite"
            datasource={datasource}
            cacheBlockSize={PAGE_SIZE}
            maxBlocksInCache={20}
            pagination
            paginationPageSize={PAGE_SIZE}
            paginationPageSizeSelector={false}
            getRowId={(params) => params.data.assembly_guid}
            rowHeight={44}
            context={context}
            overlayNoRowsTemplate={S.list.noRows}
            suppressCellFocus
          />
      </Box>
      <Menu anchorEl={menu?.anchor} open={Boolean(menu)} onClose={closeMenu}>
        <MenuItem
          data-testid="action-open"
          onClick={() => {
            closeMenu();
            navigate(`/assemblies/${row.assembly_guid}`);
          }}
        >
          <ListItemIcon><OpenInNewIcon fontSize="small" /></ListItemIcon>
          <ListItemText>{S.list.open}</ListItemText>
        </MenuItem>
        <MenuItem
          data-testid="action-clone"
          onClick={() => {
            closeMenu();
            setCloning(row);
          }}
        >
          <ListItemIcon><ContentCopyIcon fontSize="small" /></ListItemIcon>
          <ListItemText>{S.list.clone}</ListItemText>
        </MenuItem>
        <MenuItem
          data-testid="action-rename"
          disabled={!row || !mayWrite(session, row.source)}
          onClick={() => {
            closeMenu();
            setRenaming(row);
          }}
        >
          <ListItemIcon><EditIcon fontSize="small" /></ListItemIcon>
          <ListItemText>{S.list.rename}</ListItemText>
        </MenuItem>
        <MenuItem
          data-testid="action-delete"
          disabled={!row || !mayWrite(session, row.source)}
          onClick={() => {
            closeMenu();
            setDeleting(row);
          }}
        >
          <ListItemIcon><DeleteIcon fontSize="small" /></ListItemIcon>
          <ListItemText>{S.list.delete}</ListItemText>
        </MenuItem>
        <MenuItem
          data-testid="action-export"
          onClick={() => {
            closeMenu();
            doExport(row);
          }}
        >
          <ListItemIcon><FileDownloadIcon fontSize="small" /></ListItemIcon>
          <ListItemText>{S.list.export}</ListItemText>
        </MenuItem>
      </Menu>
      <CloneDialog assembly={cloning} onClose={() => setCloning(null)} onClone={doClone} />
      <RenameDialog assembly={renaming} onClose={() => setRenaming(null)} onRename={doRename} />
      <DeleteDialog assembly={deleting} onClose={() => setDeleting(null)} onDelete={doDelete} />
    </Stack>
  );
}
