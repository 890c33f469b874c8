// The list's rows and counts: an AG Grid datasource over GET /api/assemblies (or the
// deleted view), the facet counts, and re-reading when something changed. Reads retry
// with backoff while the engine is unreachable, so a short outage heals by itself.
import { startTransition, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Assemblies } from "../api.js";
import { deletedCounts } from "../components/DeletedView.jsx";
import { countQuery, pageQuery } from "./listQuery.js";
import { withRetry } from "./reachability.js";
import { assembliesChanged } from "./signals.js";
import { favouritePage } from "./favouriteRows.js";
import { loadFavourites } from "./favourites.js";

const POLL_MS = 2000;

// filters: {deleted, favourites, domain, kind, category, folder, tag, vendor, q}; gridRef:
// the AgGridReact ref; onRows(): called after each block arrives (the list applies its
// pending page there). The Favourites view reads the user's favourites (user: the username).
export function useAssemblyPage(filters, { gridRef, onError, onRows, user }) {
  const { deleted, favourites, domain, kind, category, vendor, q } = filters;
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
        () => (deleted ? deletedCounts({ kind, category, q }) : Assemblies.facets(countQuery({ domain, kind, category, folder, tag, vendor, q }))),
        gone,
      );
      // The counts re-render the header and the folder tree: after the grid's rows, which
      // the person waits for (an interruptible update).
      startTransition(() => setFacets(counts));
    } catch (error) {
      if (!error.cancelled) latest.current.onError(error);
    }
  }, [deleted, domain, kind, category, folder, tag, vendor, q]);

  useEffect(() => {
    loadCounts();
  }, [loadCounts]);

  // A new datasource (new filter) makes the grid start again from the first page.
  const datasource = useMemo(() => {
    dirtyBlocks.current = new Map();
    return {
      getRows: async (params) => {
        const sort = params.sortModel?.[0];
        const query = pageQuery(
          { domain, kind, category, folder, tag, vendor, q },
          { offset: params.startRow, limit: params.endRow - params.startRow, sort: sort?.colId, order: sort?.sort },
        );
        const page = { offset: query.offset, limit: query.limit, sort: query.sort, order: query.order };
        const read = () => {
          if (favourites) {
            return loadFavourites(user).then((all) => favouritePage(all.items, { domain, kind, category, folder, tag, q }, page));
          }
          if (deleted) return Assemblies.deleted({ domain, kind, category, q, ...page });
          return Assemblies.list(query);
        };
        try {
          const result = await withRetry(read, gone);
          dirtyBlocks.current.set(params.startRow, result.items.some((item) => item.is_dirty));
          params.successCallback(result.items, result.total);
          latest.current.onRows();
        } catch (error) {
          params.failCallback();
          if (!error.cancelled) latest.current.onError(error);
        }
      },
    };
  }, [deleted, favourites, user, domain, kind, category, folder, tag, vendor, q]);

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
