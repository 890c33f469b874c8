// The list page: lays out the header, the grid and the row menu's dialogs; the state
// (data/useListState), the rows and counts (data/useAssemblyPage) and the row actions
// (list/useRowActions) live in hooks.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import Box from "@mui/material/Box";
import Stack from "@mui/material/Stack";
import Alert from "@mui/material/Alert";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import S from "../strings.js";
import { useSession } from "../session.js";
import { pageTitle } from "../format.js";
import { useListState } from "../data/useListState.js";
import { useAssemblyPage } from "../data/useAssemblyPage.js";
import { listColumns } from "../list/columns.jsx";
import { useGridTheme } from "../list/gridTheme.js";
import { useGridKeys } from "../list/useGridKeys.js";
import { useRowActions } from "../list/useRowActions.jsx";
import AssemblyGrid, { useFillHeight } from "../list/AssemblyGrid.jsx";
import ListHeader from "../list/ListHeader.jsx";
import OfficialLibraryBanner from "../components/OfficialLibraryBanner.jsx";
import ImportDialog from "../list/ImportDialog.jsx";
import OrganisePanel from "../list/OrganisePanel.jsx";
import ActiveFilters from "../list/ActiveFilters.jsx";
import { useFavourites } from "../data/favourites.js";
import { useMoveToFolder } from "../data/useMoveToFolder.js";
import BulkToolbar, { BulkRefusals } from "../list/BulkToolbar.jsx";

const PANEL_WIDTH = { lg: 210, xl: 230 };

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
  const [listError, setListError] = useState(null);
  const [importing, setImporting] = useState(false);
  const [selected, setSelected] = useState([]);
  const [bulkReport, setBulkReport] = useState(null);
  // The folders and tags beside the grid are drawn once the first rows are (or the read
  // failed): the rows are what the person waits for; the panel's box keeps its width.
  const [rowsShown, setRowsShown] = useState(false);

  useEffect(() => {
    document.title = pageTitle(S.list.title);
  }, []);

  const onError = useCallback((error) => {
    setRowsShown(true);
    notify({ text: error.message, severity: "error" });
  }, [notify]);
  const onRows = useCallback(() => {
    window.requestAnimationFrame(() => window.setTimeout(() => setRowsShown(true))); // after the rows' frame
    if (pendingPage.current <= 0) return;
    const page = pendingPage.current;
    window.setTimeout(() => {
      pendingPage.current = 0;
      gridRef.current?.api?.paginationGoToPage(page);
    });
  }, []);
  const user = session.user?.username || null;
  const favourites = useFavourites(user);
  const { facets, datasource, refresh, changes } = useAssemblyPage(list, { gridRef, onError, onRows, user });
  const moveToFolder = useMoveToFolder(refresh);
  const showPanel = organised && !deleted;
  const actions = useRowActions({ session, refresh, onRefused: setListError });
  const { openMenu, undelete, mayUndelete } = actions;

  const columnDefs = useMemo(() => listColumns(narrow ? "phone" : compact ? "compact" : "wide", deleted, organised && !roomy), [narrow, compact, deleted, organised, roomy]);
  const gridTheme = useGridTheme(theme);
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
  // The header and the panel show the filters, not the search or the page: they get the
  // list as it was when a filter last changed, so a search or a page is not drawn there.
  const { domain, kind, category, vendor, checks, folder, tag } = list;
  const listControls = useMemo(
    () => ({ ...list, switchView: () => { setListError(null); setSelected([]); list.switchView(); } }),
    [deleted, domain, kind, category, vendor, checks, folder, tag, list.favourites], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const openImport = useCallback(() => setImporting(true), []);
  const { setDeleted, setVendor } = list;
  const showAttention = useCallback(() => { setDeleted(false); setVendor("attention"); }, [setDeleted, setVendor]);
  const onSelectionChanged = useCallback(({ api }) => setSelected(api.getSelectedRows().filter(Boolean)), []);
  const bulkDone = useCallback(() => {
    gridRef.current?.api?.deselectAll();
    setSelected([]);
    refresh();
  }, [refresh]);

  return (
    <Stack spacing={{ xs: 1.5, md: 2 }} sx={{ flex: 1, minWidth: 0 }}>
      <OfficialLibraryBanner reload={changes} onShow={showAttention} />
      <ListHeader list={listControls} facets={facets} narrow={narrow} onImport={openImport} />
      {!deleted && <ActiveFilters list={listControls} panel={showPanel} />}
      {listError && (
        <Alert severity="error" onClose={() => setListError(null)} data-testid="list-error">
          {listError}
        </Alert>
      )}
      {!deleted && <BulkToolbar selected={selected} onDone={bulkDone} onReport={setBulkReport} />}
      <BulkRefusals report={bulkReport} onClose={() => setBulkReport(null)} />
      <Stack direction="row" spacing={2} useFlexGap sx={{ minWidth: 0 }}>
        <AssemblyGrid
          ref={gridRef}
          view={deleted ? "deleted" : list.favourites ? "favourites" : "list"}
          boxRef={gridBox}
          height={gridHeight}
          narrow={narrow}
          theme={gridTheme}
          columnDefs={columnDefs}
          datasource={datasource}
          pageSize={view.size}
          initialState={initialState}
          context={context}
          keys={keys}
          onSelectionChanged={onSelectionChanged}
          onSortChanged={onSortChanged}
          onPaginationChanged={onPaginationChanged}
        />
        {/* Shown left of the grid but after it in the tab order: search, New, Import, grid. */}
        {showPanel && <Box sx={{ order: -1, height: gridHeight, minHeight: 420, display: "flex", width: PANEL_WIDTH, flexShrink: 0 }}>
          {rowsShown && <OrganisePanel list={listControls} facets={facets} favouriteCount={favourites.loaded ? favourites.guids.size : null} onMove={moveToFolder} width={PANEL_WIDTH} />}
        </Box>}
      </Stack>
      {actions.element}
      <ImportDialog open={importing} onClose={() => setImporting(false)} />
    </Stack>
  );
}
