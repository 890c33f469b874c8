// The selected rows' actions: export, category, tags, clone, delete (with Undo). Each is one
// request; the engine answers per item, and what it refused stays listed until closed.
import { memo, useState } from "react";
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Paper from "@mui/material/Paper";
import Typography from "@mui/material/Typography";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { useSession } from "../session.js";
import { BulkCategoryDialog, BulkCloneDialog, BulkDeleteDialog, BulkTagsDialog } from "./BulkDialogs.jsx";

// The refused items by name (the selection knows the names; the answer has the ids).
function refusals(results, names) {
  return results
    .filter((r) => r.status === "refused")
    .map((r) => ({ guid: r.assembly_guid, name: names.get(r.assembly_guid) || r.assembly_guid, why: r.message || r.reason }));
}

export function BulkRefusals({ report, onClose }) {
  if (!report) return null;
  return (
    <Alert severity="warning" onClose={onClose} data-testid="bulk-refusals">
      <Typography variant="body2" sx={{ fontWeight: 600 }}>{report.title}</Typography>
      <ul style={{ margin: 0, paddingInlineStart: 20 }}>
        {report.items.slice(0, 20).map((item) => (
          <li key={item.guid}><b>{item.name}</b>: {item.why}</li>
        ))}
      </ul>
    </Alert>
  );
}

function BulkToolbar({ selected, onDone, onReport }) {
  const { notify } = useSession();
  const [asking, setAsking] = useState(null); // "category" | "tags" | "clone" | "delete"
  const count = selected.length;
  if (count === 0) return null;
  const guids = selected.map((row) => row.assembly_guid);
  const names = new Map(selected.map((row) => [row.assembly_guid, row.display_name]));

  const report = (answer, verb) => {
    const refused = refusals(answer.results, names);
    onReport(refused.length ? { title: S.bulk.refusedTitle(refused.length), items: refused } : null);
    return S.bulk.summary(answer.done, verb, answer.refused);
  };
  // A category or tag change is made on the revision the row showed (as a rename is);
  // a delete or clone acts on whatever is current, as their row actions do.
  const items = (action) => selected.map((row) => ({
    assembly_guid: row.assembly_guid,
    expected_revision: ["set_category", "add_tags", "remove_tags"].includes(action) ? row.revision : undefined,
  }));
  const run = async (action, extra) => {
    const answer = await Assemblies.bulk(action, items(action), extra);
    setAsking(null);
    const text = report(answer, S.bulk.verbs[action]);
    const done = answer.results.filter((r) => r.status === "done").map((r) => r.assembly_guid);
    const undo = action === "delete" && done.length > 0 ? { label: S.dialogs.undo, run: () => undelete(done) } : undefined;
    notify({ text, severity: answer.refused ? "warning" : "success", action: undo });
    onDone();
  };
  // Undo of a bulk delete: every deleted one back in one request.
  const undelete = async (done) => {
    try {
      const answer = await Assemblies.bulk("undelete", done.map((guid) => ({ assembly_guid: guid })));
      notify({ text: report(answer, S.bulk.verbs.undelete), severity: answer.refused ? "warning" : "success" });
    } catch (error) {
      notify({ text: error.message, severity: "error" });
    }
    onDone();
  };
  const exportZip = async () => {
    try {
      const answer = await Assemblies.bulkExport(guids);
      const left = answer.leftOut.map((l) => ({ guid: l.assembly_guid, name: names.get(l.assembly_guid) || l.assembly_guid, why: l.reason }));
      onReport(left.length ? { title: S.bulk.leftOutTitle(answer.leftOutCount), items: left } : null);
      notify({ text: S.bulk.exported(answer.exported, answer.leftOutCount), severity: answer.leftOutCount ? "warning" : "success" });
    } catch (error) {
      notify({ text: error.message, severity: "error" });
    }
  };

  const close = () => setAsking(null);
  return (
    <Paper variant="outlined" role="toolbar" aria-label={S.bulk.toolbar} data-testid="bulk-toolbar"
      sx={{ display: "flex", flexWrap: "wrap", alignItems: "center", gap: 1, px: 1.5, py: 0.75 }}>
      <Typography variant="body2" sx={{ fontWeight: 600, mr: 1 }} data-testid="bulk-count">{S.bulk.selected(count)}</Typography>
      <Button size="small" variant="outlined" onClick={exportZip} title={S.bulk.exportHelp} data-testid="bulk-export">{S.bulk.export}</Button>
      <Button size="small" variant="outlined" onClick={() => setAsking("category")} data-testid="bulk-category-button">{S.bulk.category}</Button>
      <Button size="small" variant="outlined" onClick={() => setAsking("tags")} data-testid="bulk-tags-button">{S.bulk.tags}</Button>
      <Button size="small" variant="outlined" onClick={() => setAsking("clone")} data-testid="bulk-clone-button">{S.bulk.clone}</Button>
      <Button size="small" variant="outlined" color="error" onClick={() => setAsking("delete")} data-testid="bulk-delete-button">{S.bulk.delete}</Button>
      <Button size="small" onClick={onDone} sx={{ ml: "auto" }} data-testid="bulk-clear">{S.bulk.clear}</Button>
      <BulkCategoryDialog count={count} open={asking === "category"} onClose={close} onSubmit={(extra) => run("set_category", extra)} />
      <BulkTagsDialog count={count} open={asking === "tags"} onClose={close} onSubmit={(action, extra) => run(action, extra)} />
      <BulkCloneDialog count={count} open={asking === "clone"} onClose={close} onSubmit={(extra) => run("clone", extra)} />
      <BulkDeleteDialog count={count} open={asking === "delete"} onClose={close} onSubmit={() => run("delete", {})} />
    </Paper>
  );
}

// Memoised: the list page re-renders often (counts arriving, selections); this only when its props change.
export default memo(BulkToolbar);
