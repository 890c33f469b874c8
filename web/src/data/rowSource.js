// The grid's datasource for one set of filters: reads a block of rows per request of the
// grid. A datasource made with the first block already read answers the grid's first
// request at once: the grid then draws the new rows in one go instead of a screen of
// "Loading…" rows first (a search keeps the rows shown until the new ones are in).
import { withRetry } from "./reachability.js";

// The block the grid asks for first (rows 0 to blockSize-1) in the grid's current order.
export function firstBlock(blockSize, sort, order) {
  return { startRow: 0, endRow: blockSize, sortModel: sort ? [{ colId: sort, sort: order }] : [] };
}

const sameRequest = (a, b) =>
  a.startRow === b.startRow && a.endRow === b.endRow &&
  JSON.stringify((a.sortModel || []).map((s) => [s.colId, s.sort])) === JSON.stringify((b.sortModel || []).map((s) => [s.colId, s.sort]));

// read(request) -> Promise<{items, total}>; first: {request, result} or null (used once:
// a later refresh reads again); onBlock(request, result): after the grid has a block;
// onError(error); gone(): the page was left (stops retrying).
export function rowSource({ read, first, onBlock, onError, gone }) {
  let ready = first;
  return {
    getRows: async (params) => {
      if (ready && sameRequest(ready.request, params)) {
        const { result } = ready;
        ready = null;
        params.successCallback(result.items, result.total);
        onBlock(params, result);
        return;
      }
      try {
        const result = await withRetry(() => read(params), gone);
        params.successCallback(result.items, result.total);
        onBlock(params, result);
      } catch (error) {
        params.failCallback();
        if (!error.cancelled) onError(error);
      }
    },
  };
}
