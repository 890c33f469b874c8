// The list's state in its address (?view=deleted&favourites=1&domain=&kind=&category=
// &folder=&tag=&vendor=&checks=&q=&sort=&order=&page=&size=), so a view can be shared and Back
// returns to it.

export const PAGE_SIZES = [25, 50, 100];
export const DEFAULT_PAGE_SIZE = 50;
export const DOMAINS = ["official", "community", "user"];
export const KINDS = ["script", "workflow", "ansible"];
// The vendor filter: what the vendor did (upstream) or the signature.
const UPSTREAM = ["attention", "update_available", "removed_upstream", "deprecated"];
const SIGNATURE = ["modified", "unsigned", "verified"];
export const VENDOR_FILTERS = [...UPSTREAM, ...SIGNATURE];
// The script-check filter (Docs/script-checks.md): the API's `checks=` values.
export const CHECK_FILTERS = ["errors", "clean", "unchecked"];
// Grid column → the API's sort key.
export const SORT_FIELDS = {
  assembly_type: "assembly_type",
  source: "source",
  category: "category",
  display_name: "display_name",
  updated_at: "updated_at",
};

export function stateFromUrl() {
  const params = new URLSearchParams(window.location.search);
  const pick = (key, allowed) => (allowed.includes(params.get(key)) ? params.get(key) : null);
  const deleted = params.get("view") === "deleted";
  const page = Number.parseInt(params.get("page") || "1", 10);
  const size = Number.parseInt(params.get("size") || "", 10);
  return {
    deleted,
    domain: pick("domain", DOMAINS),
    kind: pick("kind", KINDS),
    category: params.has("category") ? params.get("category") : null,
    folder: params.get("folder") || null,
    tag: params.get("tag") || null,
    // The admin banner links to ?vendor=attention.
    vendor: deleted ? null : pick("vendor", VENDOR_FILTERS),
    checks: pick("checks", CHECK_FILTERS),
    favourites: !deleted && params.get("favourites") === "1",
    q: params.get("q") || "",
    sort: pick("sort", sortFields(deleted)),
    order: params.get("order") === "desc" ? "desc" : "asc",
    page: Number.isFinite(page) && page > 0 ? page : 1,
    size: PAGE_SIZES.includes(size) ? size : DEFAULT_PAGE_SIZE,
  };
}

// Grid columns that sort, by view (the deleted view also sorts by when it was deleted).
function sortFields(deleted) {
  return deleted ? [...Object.keys(SORT_FIELDS).filter((f) => f !== "updated_at"), "deleted_at"] : Object.keys(SORT_FIELDS);
}

export function urlFromState(state) {
  const params = new URLSearchParams();
  if (state.deleted) params.set("view", "deleted");
  if (state.favourites && !state.deleted) params.set("favourites", "1");
  if (state.domain) params.set("domain", state.domain);
  if (state.kind) params.set("kind", state.kind);
  if (state.category !== null) params.set("category", state.category);
  if (state.folder) params.set("folder", state.folder);
  if (state.tag) params.set("tag", state.tag);
  if (state.vendor && !state.deleted) params.set("vendor", state.vendor);
  if (state.checks) params.set("checks", state.checks);
  if (state.q) params.set("q", state.q);
  if (state.sort) {
    params.set("sort", state.sort);
    params.set("order", state.order);
  }
  if (state.page > 1) params.set("page", String(state.page));
  if (state.size !== DEFAULT_PAGE_SIZE) params.set("size", String(state.size));
  return params.toString();
}


// The list's query parameters for a vendor filter value (null: no filter).
export function vendorParams(value) {
  if (UPSTREAM.includes(value)) return { upstream: value };
  if (SIGNATURE.includes(value)) return { signature: value };
  return {};
}
