// The list's "Deleted" view: deleted assemblies (GET /api/assemblies/deleted) with when and
// by whom, and Undelete for those who could create in the assembly's domain.
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import RestoreFromTrashIcon from "@mui/icons-material/RestoreFromTrash";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { formatTime } from "../format.js";
import DomainBadge from "./DomainBadge.jsx";
import TypeLabel from "./TypeLabel.jsx";
import { DOMAINS } from "../listAddress.js";

// Counts for the domain chips in this view (the facets count live assemblies only).
export async function deletedCounts({ kind, category, q }) {
  const totals = await Promise.all(
    [null, ...DOMAINS].map((domain) => Assemblies.deleted({ domain, kind, category, q, limit: 1 }).then((r) => r.total)),
  );
  return { total: totals[0], domain: Object.fromEntries(DOMAINS.map((d, i) => [d, totals[i + 1]])), kind: null, category: null };
}

// On a phone (no Deleted columns) when and by whom go under the name.
function NameCell({ data, context }) {
  if (!data) return <Typography variant="body2" color="text.secondary">{S.list.loading}</Typography>;
  return (
    <Stack sx={{ justifyContent: "center", height: "100%", minWidth: 0, lineHeight: 1.3 }}>
      <Typography variant="body2" noWrap sx={{ fontWeight: 600 }} data-testid="deleted-name">
        {data.display_name}
      </Typography>
      {context.narrow && (
        <Typography variant="caption" color="text.secondary" noWrap data-testid="deleted-when">
          {S.dialogs.changedBy(formatTime(data.deleted_at), data.deleted_by)}
        </Typography>
      )}
    </Stack>
  );
}

function UndeleteCell({ data, context }) {
  if (!data) return null;
  const allowed = context.mayUndelete(data);
  const props = {
    disabled: !allowed,
    tabIndex: -1,
    "data-testid": "undelete",
    "aria-label": S.list.undelete,
    onClick: () => context.undelete(data),
  };
  // A disabled button shows no tooltip; the wrapper says why.
  return (
    <Stack direction="row" sx={{ alignItems: "center", height: "100%" }} title={allowed ? "" : S.list.undeleteNotAllowed}>
      {context.narrow ? (
        <IconButton size="small" {...props}><RestoreFromTrashIcon fontSize="small" /></IconButton>
      ) : (
        <Button size="small" startIcon={<RestoreFromTrashIcon />} {...props}>{S.list.undelete}</Button>
      )}
    </Stack>
  );
}

export function deletedColumns(narrow) {
  return [
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
      cellRenderer: ({ data }) => (data ? <Stack direction="row" sx={{ alignItems: "center", height: "100%" }}><DomainBadge domain={data.source} /></Stack> : null),
    },
    { colId: "category", field: "category", headerName: S.list.columns.category, width: 165, hide: narrow, tooltipField: "category" },
    { colId: "display_name", field: "display_name", headerName: S.list.columns.name, flex: 3, minWidth: narrow ? 120 : 240, cellRenderer: NameCell, tooltipField: "display_name" },
    {
      colId: "deleted_at",
      field: "deleted_at",
      headerName: S.list.deletedColumns.deletedAt,
      width: 195,
      hide: narrow,
      valueFormatter: ({ value }) => (value ? formatTime(value) : ""),
    },
    { colId: "deleted_by", field: "deleted_by", headerName: S.list.deletedColumns.deletedBy, width: 130, sortable: false, hide: narrow },
    {
      colId: "actions",
      headerName: S.list.columns.actions,
      width: narrow ? 56 : 140,
      sortable: false,
      resizable: false,
      cellStyle: { paddingLeft: 6, paddingRight: 6 },
      cellRenderer: UndeleteCell,
    },
  ];
}
