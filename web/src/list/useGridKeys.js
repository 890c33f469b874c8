// Keyboard in the list's grid: Tab into the grid lands on the first row's name; Tab again
// leaves the grid (arrows move between cells). Enter opens the assembly, or the row menu on
// its cell; the context-menu key or Shift+F10 opens the row menu from any cell. In the
// deleted view Enter on the last cell undeletes.
import { useCallback, useMemo } from "react";
import { navigate } from "../router.js";

export function useGridKeys({ deleted, openMenu, undelete, mayUndelete }) {
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
  return useMemo(() => ({ focusGridInnerElement, onCellKeyDown }), [focusGridInnerElement, onCellKeyDown]);
}
