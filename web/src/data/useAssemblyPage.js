// The list's rows and counts: an AG Grid datasource over GET /api/assemblies (or the
// deleted view), the facet counts, and re-reading when something changed. Reads retry
// with backoff while the engine is unreachable, so a short outage heals by itself.
import { startTransition, useCallback, useEffect, useRef, useState } from "react";
import { Assemblies } from "../api.js";
import { deletedCounts } from "../components/DeletedView.jsx";
import { countQuery, pageQuery } from "./listQuery.js";
import { firstBlock, rowSource } from "./rowSource.js";
import { DEFAULT_PAGE_SIZE } from "../listAddress.js";
import { withRetry } from "./reachability.js";
import { assembliesChanged } from "./signals.js";
import { favouritePage } from "./favouriteRows.js";
import { loadFavourites } from "./favourites.js";

const POLL_MS = 2000;

// filters: {deleted, favourites, domain, kind, category, folder, tag, vendor, checks, q};
// gridRef: the AgGridReact ref; onRows(): called after each block arrives (the list applies
// its pending page there). The Favourites view reads the user's favourites (user: the
// username); its rows, like the Deleted view's, carry no check results: the checks filter
// is left out of both.
export function useAssemblyPage(filters, { gridRef, onError, onRows, user }) {
  const { deleted, favourites, domain, kind, category, vendor, q } = filters;
  const checks = deleted || favourites ? null : filters.checks;
  // Folders and tags are not kept for deleted assemblies: the Deleted view leaves them out.
  const folder = deleted ? null : filters.folder;
  const tag = deleted ? null : filters.tag;
  const [facets, setFacets] = useState(null);
  const [changes, setChanges] = useState(0); // counts refreshes: a change may have happened
  const dirtyBlocks = useRef(new Map());
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  const gone = () => !alive.current;
  const latest = useRef({ onError, onRows });
  latest.current = { onError, onRows };

  // Counts per domain, kind and category for the current search and filters.
  const loadCounts = useCallback(async () => {
    try {
      const counts = await withRetry(
        () => (deleted ? deletedCounts({ kind, category, q }) : Assemblies.facets(countQuery({ domain, kind, category, folder, tag, vendor, checks, q }))),
        gone,
      );
      // The counts re-render the header and the folder tree: after the grid's rows, which
      // the person waits for (an interruptible update).
      startTransition(() => setFacets(counts));
    } catch (error) {
      if (!error.cancelled) latest.current.onError(error);
    }
  }, [deleted, domain, kind, category, folder, tag, vendor, checks, q]);

  useEffect(() => {
    loadCounts();
  }, [loadCounts]);

  // One block of rows for the grid's request (rows startRow..endRow in its sort order).
  const read = useCallback((request) => {
    const sort = request.sortModel?.[0];
    const query = pageQuery(
      { domain, kind, category, folder, tag, vendor, checks, q },
      { offset: request.startRow, limit: request.endRow - request.startRow, sort: sort?.colId, order: sort?.sort },
    );
    const page = { offset: query.offset, limit: query.limit, sort: query.sort, order: query.order };
    if (favourites) {
      return loadFavourites(user).then((all) => favouritePage(all.items, { domain, kind, category, folder, tag, q }, page));
    }
    if (deleted) return Assemblies.deleted({ domain, kind, category, q, ...page });
    return Assemblies.list(query);
  }, [deleted, favourites, user, domain, kind, category, folder, tag, vendor, checks, q]);
  const sourceFor = useCallback((first) => {
    dirtyBlocks.current = new Map();
    const onBlock = (request, result) => {
      dirtyBlocks.current.set(request.startRow, result.items.some((item) => item.is_dirty));
      latest.current.onRows();
    };
    return rowSource({ read, first, onBlock, onError: (error) => latest.current.onError(error), gone });
  }, [read]); // eslint-disable-line react-hooks/exhaustive-deps

  // New filters (a search, a folder…): the first block is read first and the grid gets a
  // datasource holding it, so the rows shown stay until the new ones replace them at once.
  // (The grid asks for the first block itself on its first load, sorting and paging.)
  // Switching to or from the Deleted view makes a new grid: its datasource comes at once.
  let [shown, setShown] = useState(() => ({ read, deleted, source: sourceFor(null) })); // eslint-disable-line prefer-const
  if (shown.deleted !== deleted) {
    shown = { read, deleted, source: sourceFor(null) };
    setShown(shown);
  }
  const order = useRef(filters.view);
  order.current = filters.view;
  useEffect(() => {
    if (shown.read === read) return undefined;
    let live = true;
    const request = firstBlock(DEFAULT_PAGE_SIZE, order.current.sort, order.current.order);
    const show = (first) => {
      if (live) setShown({ read, deleted, source: sourceFor(first) });
    };
    withRetry(() => read(request), () => gone() || !live).then(
      (result) => show({ request, result }),
      () => show(null), // the grid's own request tries again and reports
    );
    return () => {
      live = false;
    };
  }, [read, sourceFor, shown.read]); // eslint-disable-line react-hooks/exhaustive-deps
  const datasource = shown.source;

  const refresh = useCallback(() => {
    gridRef.current?.api?.refreshInfiniteCache();
    loadCounts();
    setChanges((count) => count + 1);
  }, [gridRef, loadCounts]);

  // While any loaded row is dirty, re-read the page every ~2 s so the pill clears by itself;
  // and whenever stored assemblies changed (a flush, a save elsewhere in the app).
  useEffect(() => {
    const timer = window.setInterval(() => {
      if ([...dirtyBlocks.current.values()].some(Boolean)) refresh();
    }, POLL_MS);
    const unsubscribe = assembliesChanged.subscribe(refresh);
    return () => {
      window.clearInterval(timer);
      unsubscribe();
    };
  }, [refresh]);

  return { facets, datasource, refresh, changes };
}
