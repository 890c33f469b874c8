// The editor's History panel: every kept revision (editor/RevisionRow.jsx). A row opens its
// comparison with the current revision or with its parent; two picked rows compare with
// each other (editor/RevisionDialog.jsx, which also restores).
import { useCallback, useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import List from "@mui/material/List";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import CompareArrowsIcon from "@mui/icons-material/CompareArrows";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import RevisionDialog from "./RevisionDialog.jsx";
import RevisionRow from "./RevisionRow.jsx";

const PAGE = 20;

// The revision before `item`: the next older kept one (retention may have pruned some).
function parentOf(items, item, total) {
  const index = items.findIndex((entry) => entry.revision === item.revision);
  if (index >= 0 && index + 1 < items.length) return items[index + 1].revision;
  // Not loaded yet (beyond "Show more"): the revision number before it, if any was kept.
  return total > items.length && item.revision > 1 ? item.revision - 1 : null;
}

export default function HistoryPanel({ record, canRestore, touched, onRestored }) {
  const guid = record.assembly_guid;
  const [page, setPage] = useState(null);
  const [limit, setLimit] = useState(PAGE);
  const [error, setError] = useState(null);
  const [comparison, setComparison] = useState(null);
  const [picked, setPicked] = useState([]); // at most two revision entries

  const load = useCallback(async () => {
    try {
      setPage(await Assemblies.revisions(guid, { limit }));
      setError(null);
    } catch (err) {
      setError(err.message);
    }
  }, [guid, limit]);

  // Again after every save or restore (a new current revision).
  useEffect(() => {
    load();
  }, [load, record.revision]);

  const pick = (item) =>
    setPicked((current) => {
      if (current.some((entry) => entry.revision === item.revision)) return current.filter((entry) => entry.revision !== item.revision);
      return [...current, item].slice(-2); // a third pick replaces the oldest pick
    });
  const open = (item) => setComparison({ kind: "single", item, parent: parentOf(page.items, item, page.total) });
  const compareTwo = () => {
    const [older, newer] = [...picked].sort((a, b) => a.revision - b.revision);
    setComparison({ kind: "pair", older, newer });
  };

  const restored = (revision, result) => {
    setComparison(null);
    setPicked([]);
    onRestored(revision, result);
  };
  const isPicked = (item) => picked.some((entry) => entry.revision === item.revision);

  return (
    <Box data-testid="history-panel">
      {error && <Alert severity="error" action={<Button color="inherit" size="small" onClick={load} data-testid="history-retry">{S.history.retry}</Button>}>{error}</Alert>}
      {!page && !error && <Typography variant="body2" color="text.secondary">{S.history.loading}</Typography>}
      {page && !page.items.length && <Typography variant="body2" color="text.secondary">{S.history.empty}</Typography>}
      {page && page.items.length > 1 && (
        <Stack direction="row" spacing={1} sx={{ alignItems: "center", flexWrap: "wrap", mb: 1, minHeight: 36 }}>
          <Typography variant="body2" color="text.secondary" data-testid="history-pick-hint">
            {picked.length === 2 ? S.history.pickedTwo : S.history.pickTwo}
          </Typography>
          {picked.length === 2 && (
            <Button size="small" variant="contained" startIcon={<CompareArrowsIcon />} onClick={compareTwo} data-testid="history-compare">
              {S.history.compareSelected(...[...picked].map((e) => e.revision).sort((a, b) => a - b))}
            </Button>
          )}
        </Stack>
      )}
      {page && page.items.length > 0 && (
        <List dense disablePadding sx={{ border: 1, borderColor: "divider", borderRadius: 1, "& > :last-of-type": { borderBottom: 0 } }} data-testid="history-list">
          {page.items.map((item) => (
            <RevisionRow key={item.revision} item={item} picked={isPicked(item)} onPick={pick} onOpen={open} />
          ))}
        </List>
      )}
      {page && page.total > page.items.length && (
        <Button size="small" sx={{ mt: 1 }} onClick={() => setLimit((n) => n + PAGE * 5)} data-testid="history-more">
          {S.history.showMore(page.items.length, page.total)}
        </Button>
      )}
      <RevisionDialog
        comparison={comparison}
        record={record}
        canRestore={canRestore}
        touched={touched}
        onClose={() => {
          setComparison(null);
          load(); // a refused restore may have been someone else's newer revision
        }}
        onRestored={restored}
      />
    </Box>
  );
}
