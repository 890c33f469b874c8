import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { AgGridReact } from "ag-grid-react";
import {
  CellStyleModule,
  ColumnApiModule,
  colorSchemeDark,
  GridStateModule,
  colorSchemeLight,
  InfiniteRowModelModule,
  ModuleRegistry,
  PaginationModule,
  RowApiModule,
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
import useMediaQuery from "@mui/material/useMediaQuery";
import AddIcon from "@mui/icons-material/Add";
import SearchIcon from "@mui/icons-material/Search";
import MoreVertIcon from "@mui/icons-material/MoreVert";
import OpenInNewIcon from "@mui/icons-material/OpenInNew";
import ContentCopyIcon from "@mui/icons-material/ContentCopy";
import EditIcon from "@mui/icons-material/Edit";
import DeleteIcon from "@mui/icons-material/Delete";
import FileDownloadIcon from "@mui/icons-material/FileDownload";
import DeleteOutlinedIcon from "@mui/icons-material/DeleteOutlined";
import Alert from "@mui/material/Alert";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { navigate, rememberList, replaceQuery } from "../router.js";
import { mayWrite, useSession } from "../session.js";
import { DOMAIN_COLORS } from "../theme.js";
import DomainBadge from "../components/DomainBadge.jsx";
import DirtyPill from "../components/DirtyPill.jsx";
import SignatureBadge from "../components/SignatureBadge.jsx";
import SearchMatch from "../components/SearchMatch.jsx";
import UpstreamBanner from "../components/UpstreamBanner.jsx";
import VendorFilter, { vendorFromUrl, vendorParams } from "../components/VendorFilter.jsx";
import TypeLabel from "../components/TypeLabel.jsx";
import { CloneDialog, DeleteDialog, RenameDialog } from "../components/Dialogs.jsx";
import { QUEUE_CHANGED } from "../components/DevModeBanner.jsx";
import { deletedColumns, deletedCounts } from "../components/DeletedView.jsx";
import { formatCount, formatTime, pageTitle } from "../format.js";
import { DEFAULT_PAGE_SIZE, DOMAINS, KINDS, PAGE_SIZES, SORT_FIELDS, stateFromUrl, urlFromState } from "../listAddress.js";

// Only the AG Grid features the list uses: server-side (infinite) rows, paging, tooltips,
// the initial state (sort, page) restored from the address, and the column/row calls the
// keyboard handling and the address sync make.
// Registered here, so the grid loads with this page's chunk.
ModuleRegistry.registerModules([
  InfiniteRowModelModule, PaginationModule, TooltipModule, CellStyleModule, GridStateModule,
  ColumnApiModule, RowApiModule,
]);

const POLL_MS = 2000;

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

function SourceCell({ data }) {
  if (!data) return null;
  return (
    <Stack direction="row" spacing={0.75} sx={{ alignItems: "center", height: "100%" }}>
      <DomainBadge domain={data.source} />
    </Stack>
  );
}

// Name link and, while its change is queued, the dirty pill. The link is not a tab stop:
// the grid's cells are (Tab enters the grid, arrows move, Enter opens).
function NameCell({ data }) {
  if (!data) return <Typography variant="body2" color="text.secondary">{S.list.loading}</Typography>;
  const href = `/assemblies/${data.assembly_guid}`;
  return (
    <SearchMatch match={data.match}>
      <Stack direction="row" spacing={1} sx={{ alignItems: "center", height: "100%", minWidth: 0 }}>
        <Link
          href={href}
          tabIndex={-1}
          underline="hover"
          noWrap
          sx={{ fontWeight: 600, minWidth: 0 }}
          data-testid="assembly-name"
          onClick={(event) => {
            event.preventDefault();
            navigate(href);
          }}
        >
          {data.display_name}
        </Link>
        {data.is_dirty && <DirtyPill />}
        <SignatureBadge signature={data.signature} />
      </Stack>
    </SearchMatch>
  );
}

function ActionsCell({ data, context }) {
  if (!data) return null;
  return (
    <IconButton
      size="small"
      tabIndex={-1}
      aria-label={S.list.rowMenu}
      data-testid="row-menu"
      onClick={(event) => context.openMenu(event.currentTarget, data)}
    >
      <MoreVertIcon fontSize="small" />
    </IconButton>
  );
}

function rowTooltip(data) {
  if (!data) return "";
  return S.list.rowTooltip(data.display_name, formatTime(data.updated_at), data.updated_by);
}

export default function AssemblyList() {
  const session = useSession();
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  const gridRef = useRef(null);
  const gridBox = useRef(null);
  const gridHeight = useFillHeight(gridBox, session.devMode.enabled);
  const dirtyBlocks = useRef(new Map());
  const initial = useRef(stateFromUrl()).current;
  // The page from the address, applied once the first rows (and so the page count) are in.
  const pendingPage = useRef(initial.page - 1);
  const [deleted, setDeleted] = useState(initial.deleted);
  const [domain, setDomain] = useState(initial.domain);
  const [kind, setKind] = useState(initial.kind);
  const [category, setCategory] = useState(initial.category);
  const [vendor, setVendor] = useState(vendorFromUrl); // signature / upstream filter
  const [search, setSearch] = useState(initial.q);
  const [q, setQ] = useState(initial.q);
  const [view, setView] = useState({ sort: initial.sort, order: initial.order, page: initial.page, size: initial.size });
  const [facets, setFacets] = useState(null);
  const [menu, setMenu] = useState(null);
  const [newMenu, setNewMenu] = useState(null);
  const [cloning, setCloning] = useState(null);
  const [renaming, setRenaming] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [listError, setListError] = useState(null);
  const { notify } = session;

  useEffect(() => {
    document.title = pageTitle(S.list.title);
  }, []);

  // Debounced quick search.
  useEffect(() => {
    const timer = window.setTimeout(() => setQ(search.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  // Every change of the list's state goes into the address (no new history entry).
  useEffect(() => {
    replaceQuery(urlFromState({ deleted, domain, kind, category, q, ...view }));
    rememberList(window.location.pathname + window.location.search);
  }, [deleted, domain, kind, category, q, view]);

  // Counts per domain, kind and category for the current search and filters.
  const loadCounts = useCallback(async () => {
    try {
      setFacets(deleted ? await deletedCounts({ kind, category, q }) : await Assemblies.facets({ domain, kind, category, q, ...vendorParams(vendor) }));
    } catch (error) {
      notify({ text: error.message, severity: "error" });
    }
  }, [deleted, domain, kind, category, q, vendor, notify]);

  useEffect(() => {
    loadCounts();
  }, [loadCounts]);

  // A new datasource (new filter) makes the grid start again from the first page (the
  // grid reports that through onPaginationChanged).
  const datasource = useMemo(() => {
    dirtyBlocks.current = new Map();
    return {
      getRows: async (params) => {
        const sort = params.sortModel?.[0];
        try {
          const result = await (deleted ? Assemblies.deleted : Assemblies.list)({
            domain,
            kind,
            category,
            q,
            ...(deleted ? {} : vendorParams(vendor)),
            offset: params.startRow,
            limit: params.endRow - params.startRow,
            sort: sort ? SORT_FIELDS[sort.colId] || sort.colId : "display_name",
            order: sort ? sort.sort : "asc",
          });
          dirtyBlocks.current.set(params.startRow, result.items.some((item) => item.is_dirty));
          params.successCallback(result.items, result.total);
          if (pendingPage.current > 0) {
            const page = pendingPage.current;
            window.setTimeout(() => {
              pendingPage.current = 0;
              gridRef.current?.api?.paginationGoToPage(page);
            });
          }
        } catch (error) {
          params.failCallback();
          notify({ text: error.message, severity: "error" });
        }
      },
    };
  }, [deleted, domain, kind, category, q, vendor, notify]);

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

  // Names first: the Name column takes the free width; fixed columns are as wide as their
  // content. On a phone only Name, Source and the row menu are shown.
  const columnDefs = useMemo(
    () => deleted ? deletedColumns(narrow) : [
      {
        colId: "assembly_type",
        field: "assembly_type",
        headerName: S.list.columns.type,
        width: 178,
        hide: narrow,
        cellRenderer: ({ data }) => (data ? <TypeLabel type={data.assembly_type} /> : null),
      },
      {
        colId: "source",
        field: "source",
        headerName: S.list.columns.source,
        width: narrow ? 118 : 140,
        cellRenderer: SourceCell,
      },
      { colId: "category", field: "category", headerName: S.list.columns.category, width: 165, hide: narrow, tooltipField: "category" },
      {
        colId: "display_name",
        field: "display_name",
        headerName: S.list.columns.name,
        flex: 3,
        minWidth: narrow ? 150 : 260,
        cellRenderer: NameCell,
        tooltipValueGetter: ({ data }) => rowTooltip(data),
      },
      {
        colId: "summary",
        field: "summary",
        headerName: S.list.columns.description,
        flex: 1.5,
        minWidth: 160,
        sortable: false,
        hide: narrow,
        tooltipField: "summary",
      },
      {
        colId: "updated_at",
        field: "updated_at",
        headerName: S.list.columns.updated,
        width: 195,
        hide: narrow,
        valueFormatter: ({ value }) => (value ? formatTime(value) : ""),
      },
      {
        colId: "updated_by",
        field: "updated_by",
        headerName: S.list.columns.updatedBy,
        width: 130,
        sortable: false,
        hide: narrow,
      },
      {
        colId: "actions",
        headerName: S.list.columns.actions,
        headerTooltip: S.list.rowMenu,
        width: 56,
        sortable: false,
        resizable: false,
        cellStyle: { paddingLeft: 6, paddingRight: 6, display: "flex", alignItems: "center", justifyContent: "center" },
        cellRenderer: ActionsCell,
      },
    ],
    [narrow, deleted],
  );

  const gridTheme = useMemo(
    () =>
      themeQuartz.withPart(theme.palette.mode === "dark" ? colorSchemeDark : colorSchemeLight).withParams({
        fontFamily: theme.typography.fontFamily,
        backgroundColor: theme.palette.background.paper,
        headerFontWeight: 600,
        fontSize: 14,
        focusShadow: { radius: 0, spread: 2, color: theme.palette.primary.main },
        rangeSelectionBorderColor: theme.palette.primary.main,
      }),
    [theme],
  );

  const openMenu = useCallback((anchor, data) => setMenu({ anchor, data }), []);
  // Undelete from the deleted view: a 409 (the id is in use again) or a refusal stays on
  // screen above the grid until closed.
  const undelete = useCallback(async (assembly) => {
    setListError(null);
    try {
      const back = await Assemblies.undelete(assembly.assembly_guid);
      notify({ text: S.list.undeleted(back.display_name, back.revision) });
    } catch (error) {
      setListError(error.status === 409
        ? S.list.undeleteInUse(assembly.display_name, error.message)
        : S.list.undeleteFailed(assembly.display_name, error.message));
    }
    refresh();
  }, [notify, refresh]);
  const mayUndelete = useCallback((assembly) => mayWrite(session, assembly.source), [session]);
  const context = useMemo(() => ({ openMenu, undelete, mayUndelete, narrow }), [openMenu, undelete, mayUndelete, narrow]);
  const row = menu?.data;
  const closeMenu = () => setMenu(null);

  // Keyboard: Tab into the grid lands on the first row's name; Tab again leaves the grid
  // (arrows move between cells). Enter opens the assembly, or the row menu on its cell;
  // the context-menu key or Shift+F10 opens the row menu from any cell.
  const focusGridInnerElement = useCallback(({ api }) => {
    if (!api.getDisplayedRowCount()) return false;
    const first = api.getFirstDisplayedRowIndex();
    const focused = api.getFocusedCell();
    api.setFocusedCell(focused && focused.rowIndex >= first ? focused.rowIndex : first, focused?.column ?? "display_name");
    return true;
  }, []);
  const onCellKeyDown = useCallback(
    (params) => {
      const event = params.event;
      if (!event || !params.data) return;
      const menuKey = event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey);
      if (deleted) {
        if (event.key === "Enter" && params.column.getColId() === "actions" && mayUndelete(params.data)) undelete(params.data);
      } else if (menuKey || (event.key === "Enter" && params.column.getColId() === "actions")) {
        event.preventDefault();
        const cell = event.target.closest?.(".ag-cell") || event.target;
        openMenu(cell.closest(".ag-row")?.querySelector('[col-id="actions"]') || cell, params.data);
      } else if (event.key === "Enter") {
        event.preventDefault();
        navigate(`/assemblies/${params.data.assembly_guid}`);
      }
    },
    [openMenu, deleted, undelete, mayUndelete],
  );

  const onSortChanged = useCallback(({ api }) => {
    const sorted = api.getColumnState().find((column) => column.sort);
    const sort = sorted ? sorted.colId : null;
    const order = sorted?.sort || "asc";
    // (Applying the address's sort on load is no change: the page stays.)
    setView((v) => (v.sort === sort && v.order === order ? v : { ...v, sort, order, page: 1 }));
  }, []);
  const onPaginationChanged = useCallback(({ api, newPage, newPageSize }) => {
    if ((!newPage && !newPageSize) || pendingPage.current > 0) return;
    setView((v) => ({ ...v, page: api.paginationGetCurrentPage() + 1, size: api.paginationGetPageSize() }));
  }, []);
  // The grid is made again when the view switches (other columns); it starts from the
  // current sort and page size.
  const initialState = useMemo(
    () => ({
      sort: view.sort ? { sortModel: [{ colId: view.sort, sort: view.order }] } : undefined,
      pagination: { pageSize: view.size },
    }),
    [deleted], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const switchView = () => {
    setListError(null);
    // Newest deletions first in the deleted view; the list's default order back in the list.
    setView((v) => ({ ...v, sort: deleted ? null : "deleted_at", order: deleted ? "asc" : "desc", page: 1 }));
    setDeleted(!deleted);
  };

  const doClone = async (assembly, target, name) => {
    const created = await Assemblies.clone(assembly.assembly_guid, target, name);
    setCloning(null);
    notify({ text: S.list.cloned(created.display_name, S.domains[target]) });
    navigate(`/assemblies/${created.assembly_guid}`);
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

  const counts = facets ? { all: facets.total, ...facets.domain } : {};
  const chip = (key, label) => {
    const selected = (domain || "all") === key;
    const color = DOMAIN_COLORS[key]?.[theme.palette.mode];
    return (
      <Chip
        key={key}
        clickable
        disableRipple
        size={narrow ? "small" : "medium"}
        data-testid={`domain-chip-${key}`}
        data-count={counts[key] ?? ""}
        aria-pressed={selected}
        onClick={() => setDomain(key === "all" ? null : key)}
        variant={selected ? "filled" : "outlined"}
        color={selected && !color ? "primary" : "default"}
        label={
          <span>
            {label}{" "}
            <Box component="span" data-testid="chip-count" sx={{ opacity: 0.8, fontVariantNumeric: "tabular-nums" }}>
              {formatCount(counts[key])}
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

  const kindCounts = facets?.kind || {};
  const categoryCounts = facets?.category || {};
  const categories = Object.keys(categoryCounts);
  if (category !== null && !categories.includes(category)) categories.push(category);

  return (
    <Stack spacing={{ xs: 1.5, md: 2 }} sx={{ flex: 1, minWidth: 0 }}>
      <UpstreamBanner reload={facets} onShow={() => { setDeleted(false); setVendor("attention"); }} />
      <Stack direction={{ xs: "column", md: "row" }} spacing={{ xs: 1, md: 2 }} sx={{ alignItems: { md: "center" }, flexWrap: { xs: "wrap", lg: "nowrap" }, rowGap: 1.5, "& > *": { flexShrink: 0 } }}>
        <Stack direction="row" spacing={1} sx={{ alignItems: "center", justifyContent: "space-between" }}>
          <Typography variant="h5" component="h1" sx={{ fontWeight: 700, mr: 1 }}>
            {S.list.title}
          </Typography>
          {narrow && (
            <Button variant="contained" size="small" startIcon={<AddIcon />} onClick={(e) => setNewMenu(e.currentTarget)} data-testid="new-assembly">
              {S.list.newAssembly}
            </Button>
          )}
        </Stack>
        <Stack direction="row" spacing={1} sx={{ flexWrap: "wrap", rowGap: 1 }} data-testid="domain-chips">
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
            onClick={switchView}
            data-testid="deleted-view"
          />
        </Stack>
        <Box sx={{ flex: 1, display: { xs: "none", md: "block" } }} />
        <Stack direction="row" spacing={1} sx={{ minWidth: 0 }}>
          <TextField
            select
            size="small"
            label={S.list.kindFilter}
            value={kind || ""}
            onChange={(e) => setKind(e.target.value || null)}
            sx={{ minWidth: { xs: 0, md: 140 }, flex: { xs: 1, md: "none" } }}
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
            onChange={(e) => setCategory(e.target.value === "\u0000all" ? null : e.target.value)}
            sx={{ minWidth: { xs: 0, md: 170 }, maxWidth: { md: 240 }, flex: { xs: 1, md: "none" } }}
            slotProps={{ select: { SelectDisplayProps: { "data-testid": "category-filter" } }, inputLabel: { shrink: true } }}
          >
            <MenuItem value={"\u0000all"} data-testid="category-option-all">{S.list.allCategories}</MenuItem>
            {categories.map((c) => (
              <MenuItem key={c} value={c} data-testid={`category-option-${c}`}>
                {deleted ? c || S.list.noCategory : S.list.withCount(c || S.list.noCategory, formatCount(categoryCounts[c] ?? 0))}
              </MenuItem>
            ))}
          </TextField>
          {!deleted && <VendorFilter value={vendor} onChange={setVendor} />}
        </Stack>
        <TextField
          size="small"
          placeholder={S.list.search}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          sx={{ minWidth: { md: 200 }, flex: { md: "0 1 300px" }, flexShrink: { md: "1 !important" } }}
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
        {!narrow && (
          <Button variant="contained" startIcon={<AddIcon />} onClick={(e) => setNewMenu(e.currentTarget)} data-testid="new-assembly" sx={{ whiteSpace: "nowrap" }}>
            {S.list.newAssembly}
          </Button>
        )}
        <Menu anchorEl={newMenu} open={Boolean(newMenu)} onClose={() => setNewMenu(null)}>
          {KINDS.map((k) => (
            <MenuItem
              key={k}
              data-testid={`new-${k}`}
              onClick={() => {
                setNewMenu(null);
                navigate(`/assemblies/new/${k}`);
              }}
            >
              {S.kinds[k]}
            </MenuItem>
          ))}
        </Menu>
      </Stack>
      {listError && (
        <Alert severity="error" onClose={() => setListError(null)} data-testid="list-error">
          {listError}
        </Alert>
      )}
      <Box ref={gridBox} sx={{ height: gridHeight, minHeight: 420 }} data-testid="assembly-grid" data-view={deleted ? "deleted" : "list"}>
          <AgGridReact
            key={deleted ? "deleted" : "list"}
            ref={gridRef}
            theme={gridTheme}
            columnDefs={columnDefs}
            defaultColDef={{ sortable: true, resizable: true }}
            rowModelType="infinite"
            datasource={datasource}
            cacheBlockSize={DEFAULT_PAGE_SIZE}
            maxBlocksInCache={20}
            pagination
            paginationPageSize={view.size}
            paginationPageSizeSelector={PAGE_SIZES}
            initialState={initialState}
            getRowId={(params) => params.data.assembly_guid}
            rowHeight={deleted && narrow ? 52 : 44}
            context={context}
            overlayNoRowsTemplate={deleted ? S.list.noDeleted : S.list.noRows}
            focusGridInnerElement={focusGridInnerElement}
            tabToNextCell={() => false}
            onCellKeyDown={onCellKeyDown}
            onSortChanged={onSortChanged}
            onPaginationChanged={onPaginationChanged}
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
