// The list's columns. Names first: the Name column takes the free width; fixed columns are
// as wide as their content (Type and Category give the row checkboxes their room). Below
// 1200 px Description and "Updated by" step aside (nothing
// scrolls sideways from 1024 px up); on a phone Name (with its source beneath) and the row
// menu remain.
import S from "../strings.js";
import { formatTime } from "../format.js";
import { deletedColumns } from "../components/DeletedView.jsx";
import { ActionsCell, NameCell, SourceCell, TypeCell, rowTooltip } from "./cells.jsx";

// size: "phone" | "compact" (under 1200 px, or 1440 px beside the folder tree) | "wide";
// beside the folder tree (foldered: from 1200 px to 1679 px) the tree shows the category, so
// on a compact grid its column steps aside, and on a wide one "Updated by" does instead.
export function listColumns(size, deleted, foldered = false) {
  const narrow = size === "phone";
  if (deleted) return deletedColumns(narrow);
  return [
    {
      colId: "assembly_type",
      field: "assembly_type",
      headerName: S.list.columns.type,
      width: 132,
      hide: narrow,
      cellRenderer: TypeCell,
    },
    { colId: "source", field: "source", headerName: S.list.columns.source, width: 136, hide: narrow, cellRenderer: SourceCell },
    { colId: "category", field: "category", headerName: S.list.columns.category, width: 128, hide: narrow || (foldered && size === "compact"), tooltipField: "category" },
    {
      colId: "display_name",
      field: "display_name",
      headerName: S.list.columns.name,
      flex: 3,
      minWidth: narrow ? 150 : 240,
      cellRenderer: NameCell,
      tooltipValueGetter: ({ data }) => rowTooltip(data),
    },
    {
      colId: "summary",
      field: "summary",
      headerName: S.list.columns.description,
      flex: 1.2,
      minWidth: 140,
      sortable: false,
      hide: size !== "wide",
      tooltipField: "summary",
    },
    {
      colId: "updated_at",
      field: "updated_at",
      headerName: S.list.columns.updated,
      width: 158,
      hide: narrow,
      // The first click shows the newest first.
      sortingOrder: ["desc", "asc", null],
      valueFormatter: ({ value }) => (value ? formatTime(value) : ""),
    },
    { colId: "updated_by", field: "updated_by", headerName: S.list.columns.updatedBy, width: 116, sortable: false, hide: size !== "wide" || foldered },
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
  ];
}
