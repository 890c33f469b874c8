// The list's reads as the engine gets them: one page of rows and the counts beside it, for
// the list's filters. One place builds them, so the early reads at start-up (earlyListReads)
// ask exactly what the list's first reads will.
import { Assemblies, askEarly } from "../api.js";
import { DEFAULT_PAGE_SIZE, SORT_FIELDS, stateFromUrl, vendorParams } from "../listAddress.js";

// filters: {domain, kind, category, folder, tag, vendor, checks, q}; page: {offset, limit,
// sort, order} with sort a grid column (null: by name).
export function pageQuery({ domain, kind, category, folder, tag, vendor, checks, q }, { offset, limit, sort, order }) {
  return {
    domain, kind, category, folder, tag, checks, q, ...vendorParams(vendor),
    offset, limit, sort: sort ? SORT_FIELDS[sort] || sort : "display_name", order: sort ? order : "asc",
  };
}

export function countQuery({ domain, kind, category, folder, tag, vendor, checks, q }) {
  return { domain, kind, category, folder, tag, checks, q, ...vendorParams(vendor) };
}

// Called at start-up by a browser holding a session that opens the list: its first block
// of rows (the grid asks for rows 0-49 first whatever the page) and the counts are asked
// while the session check and the list's chunk load. The Deleted and Favourites views read
// elsewhere and are left alone.
export function earlyListReads() {
  const state = stateFromUrl();
  if (state.deleted || state.favourites) return;
  askEarly(Assemblies.listPath(pageQuery(state, { offset: 0, limit: DEFAULT_PAGE_SIZE, sort: state.sort, order: state.order })));
  askEarly(Assemblies.facetsPath(countQuery(state)));
}
