// The list page: lays out the header, the grid and the row menu's dialogs; the state
// (data/useListState) and the rows and counts (data/useAssemblyPage) live in hooks.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { AgGridReact } from "ag-grid-react";
import {
  CellStyleModule, ColumnApiModule, EventApiModule, GridStateModule, InfiniteRowModelModule, ModuleRegistry, PaginationModule,
  RowApiModule, RowSelectionModule, TooltipModule,
} from "ag-grid-community";
import Box from "@mui/material/Box";
import Stack from "@mui/material/Stack";
import Alert from "@mui/material/Alert";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { navigate } from "../router.js";
import { mayWrite, useSession } from "../session.js";
import { CloneDialog, DeleteDialog, RenameDialog } from "../components/Dialogs.jsx";
import { pageTitle } from "../format.js";
import { DEFAULT_PAGE_SIZE, PAGE_SIZES } from "../listAddress.js";
import { useListState } from "../data/useListState.js";
import { useAssemblyPage } from "../data/useAssemblyPage.js";
import { listColumns } from "../list/columns.jsx";
import { useGridTheme } from "../list/gridTheme.js";
import { useGridKeys } from "../list/useGridKeys.js";
import ListHeader from "../list/ListHeader.jsx";
import OfficialLibraryBanner from "../components/OfficialLibraryBanner.jsx";
import RowMenu from "../list/RowMenu.jsx";
import ImportDialog from "../list/ImportDialog.jsx";
import OrganisePanel from "../list/OrganisePanel.jsx";
import ActiveFilters from "../list/ActiveFilters.jsx";
import { useFavourites } from "../data/favourites.js";
import { useMoveToFolder } from "../data/useMoveToFolder.js";
import BulkToolbar, { BulkRefusals } from "../list/BulkToolbar.jsx";
import BulkSelectHeader from "../list/BulkSelectHeader.jsx";

// Only the AG Grid features the list uses: server-side (infinite) rows, paging, tooltips,
// the initial state (sort, page) restored from the address, and the column/row calls the
// keyboard handling and the address sync make. Registered here, so the grid loads with
// this page's chunk.
ModuleRegistry.registerModules([
  InfiniteRowModelModule, PaginationModule, TooltipModule, CellStyleModule, GridStateModule,
  ColumnApiModule, RowApiModule, RowSelectionModule, EventApiModule,
]);
// Row checkboxes for the bulk toolbar (no "select all": the rows are loaded page by page).
const ROW_SELECTION = { mode: "multiRow", checkboxes: true, headerCheckbox: false, enableClickSelection: false };
const SELECTION_COLUMN = {
  width: 44, minWidth: 44, maxWidth: 44, resizable: false, suppressMovable: true, headerTooltip: S.bulk.selectHelp,
  headerComponent: BulkSelectHeader,
};

// The grid fills the window below its top edge (which moves when a banner shows).
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

// The pager wraps onto two centred lines on a phone instead of scrolling sideways.
const PAGER_SX = {
  "& .ag-paging-panel": { flexWrap: { xs: "wrap", sm: "nowrap" }, height: { xs: "auto", sm: undefined }, justifyContent: { xs: "center", sm: "flex-end" }, gap: { xs: 0.5, sm: 0 }, py: { xs: 0.75, sm: 0 } },
  "& .ag-paging-row-summary-panel": { mx: { xs: 1, sm: undefined } },
};

export default function AssemblyList() {
  const session = useSession();
  const { notify } = session;
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  // Folders, tags and Favourites beside the grid from 1200 px (below, the grid needs the
  // width); with them the grid's wide columns wait for 1440 px.
  const organised = useMediaQuery(theme.breakpoints.up("lg"));
  const compact = useMediaQuery(organised ? "(max-width: 1439.95px)" : "(max-width: 1199.95px)");
  const roomy = useMediaQuery("(min-width: 1680px)"); // beside the tree, room for "Updated by" too
  const gridRef = useRef(null);
  const gridBox = useRef(null);
  const gridHeight = useFillHeight(gridBox, session.devMode.enabled);
  const list = useListState();
  const { deleted, view, setView } = list;
  // The page from the address, applied once the first rows (and so the page count) are in.
  const pendingPage = useRef(list.initial.page - 1);
  const [menu, setMenu] = useState(null);
  const [cloning, setCloning] = useState(null);
  const [renaming, setRenaming] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [listError, setListError] = useState(null);
  const [importing, setImporting] = useState(false);
  const [selected, setSelected] = useState([]);
  const [bulkReport, setBulkReport] = useState(null);

  useEffect(() => {
    document.title = pageTitle(S.list.title);
  }, []);

  const onError = useCallback((error) => notify({ text: error.message, severity: "error" }), [notify]);
  const onRows = useCallback(() => {
    if (pendingPage.current <= 0) return;
    const page = pendingPage.current;
    window.setTimeout(() => {
      pendingPage.current = 0;
      gridRef.current?.api?.paginationGoToPage(page);
    });
  }, []);
  const user = session.user?.username || null;
  const favourites = useFavourites(user);
  const { facets, datasource, refresh } = useAssemblyPage(list, { gridRef, onError, onRows, user });
  const moveToFolder = useMoveToFolder(refresh);
  const showPanel = organised && !deleted;

  const columnDefs = useMemo(() => listColumns(narrow ? "phone" : compact ? "compact" : "wide", deleted, organised && !roomy), [narrow, compact, deleted, organised, roomy]);
  const gridTheme = useGridTheme(theme);

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
  const pickTag = list.setTag;
  const context = useMemo(() => ({ openMenu, undelete, mayUndelete, narrow, pickTag, draggable: showPanel }), [openMenu, undelete, mayUndelete, narrow, pickTag, showPanel]);
  const keys = useGridKeys({ deleted, openMenu, undelete, mayUndelete });

  const onSortChanged = useCallback(({ api }) => {
    const sorted = api.getColumnState().find((column) => column.sort);
    const sort = sorted ? sorted.colId : null;
    const order = sorted?.sort || "asc";
    // (Applying the address's sort on load is no change: the page stays.)
    setView((v) => (v.sort === sort && v.order === order ? v : { ...v, sort, order, page: 1 }));
  }, [setView]);
  const onPaginationChanged = useCallback(({ api, newPage, newPageSize }) => {
    if ((!newPage && !newPageSize) || pendingPage.current > 0) return;
    setView((v) => ({ ...v, page: api.paginationGetCurrentPage() + 1, size: api.paginationGetPageSize() }));
  }, [setView]);
  // The grid is made again when the view switches (other columns); it starts from the
  // current sort and page size.
  const initialState = useMemo(
    () => ({
      sort: view.sort ? { sortModel: [{ colId: view.sort, sort: view.order }] } : undefined,
      pagination: { pageSize: view.size },
    }),
    [deleted], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const listControls = { ...list, switchView: () => { setListError(null); setSelected([]); list.switchView(); } };
  const onSelectionChanged = useCallback(({ api }) => setSelected(api.getSelectedRows().filter(Boolean)), []);
  const bulkDone = useCallback(() => {
    gridRef.current?.api?.deselectAll();
    setSelected([]);
    refresh();
  }, [refresh]);

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
    const undo = async () => {
      try {
        const back = await Assemblies.undelete(assembly.assembly_guid);
        notify({ text: S.list.undeleted(back.display_name, back.revision) });
      } catch (error) {
        notify({ text: S.list.undeleteFailed(assembly.display_name, error.message), severity: "error" });
      }
      refresh();
    };
    notify({ text: S.list.deleted(assembly.display_name), action: { label: S.dialogs.undo, run: undo } });
    refresh();
  };
  const doExport = async (assembly) => {
    try {
      await Assemblies.exportFile(assembly.assembly_guid, assembly.display_name);
    } catch (error) {
      notify({ text: error.message, severity: "error" });
    }
  };

  return (
    <Stack spacing={{ xs: 1.5, md: 2 }} sx={{ flex: 1, minWidth: 0 }}>
      <OfficialLibraryBanner reload={facets} onShow={() => { list.setDeleted(false); list.setVendor("attention"); }} />
      <ListHeader list={listControls} facets={facets} narrow={narrow} onImport={() => setImporting(true)} />
      {!showPanel && !deleted && <ActiveFilters list={list} />}
      {listError && (
        <Alert severity="error" onClose={() => setListError(null)} data-testid="list-error">
          {listError}
        </Alert>
      )}
      {!deleted && <BulkToolbar selected={selected} onDone={bulkDone} onReport={setBulkReport} />}
      <BulkRefusals report={bulkReport} onClose={() => setBulkReport(null)} />
      <Stack direction="row" spacing={2} useFlexGap sx={{ minWidth: 0 }}>
      <Box ref={gridBox} sx={{ flex: 1, minWidth: 0, height: gridHeight, minHeight: 420, ...PAGER_SX }} data-testid="assembly-grid"
        data-view={deleted ? "deleted" : list.favourites ? "favourites" : "list"}>
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
          paginationPageSizeSelector={narrow ? false : PAGE_SIZES}
          initialState={initialState}
          getRowId={(params) => params.data.assembly_guid}
          rowSelection={deleted ? undefined : ROW_SELECTION}
          selectionColumnDef={SELECTION_COLUMN}
          onSelectionChanged={onSelectionChanged}
          rowHeight={narrow ? (deleted ? 52 : 78) : 44}
          context={context}
          overlayNoRowsTemplate={deleted ? S.list.noDeleted : S.list.noRows}
          focusGridInnerElement={keys.focusGridInnerElement}
          tabToNextCell={() => false}
          onCellKeyDown={keys.onCellKeyDown}
          onSortChanged={onSortChanged}
          onPaginationChanged={onPaginationChanged}
        />
      </Box>
      {/* Shown left of the grid but after it in the tab order: search, New, Import, grid. */}
      {showPanel && <Box sx={{ order: -1, height: gridHeight, minHeight: 420, display: "flex" }}>
        <OrganisePanel list={list} facets={facets} favouriteCount={favourites.loaded ? favourites.guids.size : null} onMove={moveToFolder} width={{ lg: 210, xl: 230 }} />
      </Box>}
      </Stack>
      <RowMenu
        menu={menu}
        writable={Boolean(menu?.data) && mayWrite(session, menu.data.source)}
        onClose={() => setMenu(null)}
        onOpen={(row) => navigate(`/assemblies/${row.assembly_guid}`)}
        onClone={setCloning}
        onRename={setRenaming}
        onDelete={setDeleting}
        onExport={doExport}
      />
      <CloneDialog assembly={cloning} onClose={() => setCloning(null)} onClone={doClone} />
      <RenameDialog assembly={renaming} onClose={() => setRenaming(null)} onRename={doRename} />
      <DeleteDialog assembly={deleting} onClose={() => setDeleting(null)} onDelete={doDelete} />
      <ImportDialog open={importing} onClose={() => setImporting(false)} />
    </Stack>
  );
}
