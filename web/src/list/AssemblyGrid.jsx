// The list's grid: AG Grid over the engine's pages (infinite row model: only the rows on
// screen are asked for and drawn, however large the library), paged, with row checkboxes.
// Memoised: the page re-renders (counts arriving, a selection) reach the grid only when its
// own props change.
import { forwardRef, memo, useLayoutEffect, useMemo, useState } from "react";
import { AgGridReact } from "ag-grid-react";
import {
  CellStyleModule, ColumnApiModule, EventApiModule, GridStateModule, InfiniteRowModelModule, ModuleRegistry, PaginationModule,
  RowApiModule, RowSelectionModule, TooltipModule,
} from "ag-grid-community";
import Box from "@mui/material/Box";
import { useTheme } from "@mui/material/styles";
import S from "../strings.js";
import { DEFAULT_PAGE_SIZE, PAGE_SIZES } from "../listAddress.js";
import BulkSelectHeader from "./BulkSelectHeader.jsx";
import { cellStyles } from "./cellStyles.js";

// Only the AG Grid features the list uses: server-side (infinite) rows, paging, tooltips,
// the initial state (sort, page) restored from the address, and the column/row calls the
// keyboard handling and the address sync make. Registered here, so the grid loads with
// the list's chunk.
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
// Rows drawn beyond the visible ones (AG Grid's default is 10 each way): every search, sort
// and page draws the screen again, and a page holds at most 100 rows.
const ROW_BUFFER = 4;
// Props that never change are made once: a new object would make the grid apply them again.
const DEFAULT_COL_DEF = { sortable: true, resizable: true };
const rowId = (params) => params.data.assembly_guid;
const noTabBetweenCells = () => false;

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

// view: "list" | "favourites" | "deleted"; boxRef: the grid's box (its height follows the
// window); the AG Grid props the list sets are passed through.
function AssemblyGrid({ view, boxRef, height, narrow, theme, columnDefs, datasource, pageSize, initialState, context, keys, onSelectionChanged, onSortChanged, onPaginationChanged }, gridRef) {
  const deleted = view === "deleted";
  const muiTheme = useTheme();
  const cells = useMemo(() => cellStyles(muiTheme), [muiTheme]);
  return (
    <Box ref={boxRef} sx={{ flex: 1, minWidth: 0, height, minHeight: 420, ...PAGER_SX, ...cells }} data-testid="assembly-grid" data-view={view}>
      <AgGridReact
        key={deleted ? "deleted" : "list"}
        ref={gridRef}
        theme={theme}
        columnDefs={columnDefs}
        defaultColDef={DEFAULT_COL_DEF}
        rowModelType="infinite"
        datasource={datasource}
        cacheBlockSize={DEFAULT_PAGE_SIZE}
        maxBlocksInCache={20}
        rowBuffer={ROW_BUFFER}
        pagination
        paginationPageSize={pageSize}
        paginationPageSizeSelector={narrow ? false : PAGE_SIZES}
        initialState={initialState}
        getRowId={rowId}
        rowSelection={deleted ? undefined : ROW_SELECTION}
        selectionColumnDef={SELECTION_COLUMN}
        onSelectionChanged={onSelectionChanged}
        rowHeight={narrow ? (deleted ? 52 : 78) : 44}
        context={context}
        overlayNoRowsTemplate={deleted ? S.list.noDeleted : S.list.noRows}
        focusGridInnerElement={keys.focusGridInnerElement}
        tabToNextCell={noTabBetweenCells}
        onCellKeyDown={keys.onCellKeyDown}
        onSortChanged={onSortChanged}
        onPaginationChanged={onPaginationChanged}
      />
    </Box>
  );
}

export default memo(forwardRef(AssemblyGrid));
export { useFillHeight };
