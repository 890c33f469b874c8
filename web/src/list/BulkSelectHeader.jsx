// The checkbox column's header: ticks every row of the page shown (the grid's own "select
// all" does not work with rows loaded page by page), or clears them when all are ticked.
import { useEffect, useState } from "react";
import Checkbox from "@mui/material/Checkbox";
import S from "../strings.js";

function pageNodes(api) {
  if (api.isDestroyed()) return []; // an event of a grid being taken down (the page left)
  const size = api.paginationGetPageSize();
  const first = api.paginationGetCurrentPage() * size;
  const nodes = [];
  api.forEachNode((node) => {
    if (node.data && node.rowIndex >= first && node.rowIndex < first + size) nodes.push(node);
  });
  return nodes;
}

export default function BulkSelectHeader({ api }) {
  const [state, setState] = useState({ all: false, some: false });
  useEffect(() => {
    const update = () => {
      const nodes = pageNodes(api);
      const ticked = nodes.filter((node) => node.isSelected()).length;
      setState({ all: nodes.length > 0 && ticked === nodes.length, some: ticked > 0 && ticked < nodes.length });
    };
    const events = ["selectionChanged", "paginationChanged", "modelUpdated"];
    events.forEach((name) => api.addEventListener(name, update));
    update();
    return () => events.forEach((name) => !api.isDestroyed() && api.removeEventListener(name, update));
  }, [api]);
  const toggle = () => api.setNodesSelected({ nodes: pageNodes(api), newValue: !state.all });
  return (
    <Checkbox size="small" checked={state.all} indeterminate={state.some} onChange={toggle}
      slotProps={{ input: { "aria-label": S.bulk.selectPage, "data-testid": "bulk-select-page" } }} sx={{ p: 0.5 }} />
  );
}
