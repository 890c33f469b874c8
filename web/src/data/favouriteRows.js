// The Favourites view's rows: the user's starred assemblies (at most a few hundred, all
// read at once) filtered and sorted here like the engine filters and sorts the list.
import { SORT_FIELDS } from "../listAddress.js";

export function inFolder(category, folder) {
  const path = folder.replace(/\/+$/, "");
  return category === folder || category.startsWith(`${path}/`);
}

function matches(item, { domain, kind, category, folder, tag, q }) {
  const itemCategory = item.category || "";
  if (domain && item.source !== domain) return false;
  if (kind && item.assembly_kind !== kind) return false;
  if (category !== null && category !== undefined && itemCategory !== category) return false;
  if (folder && !inFolder(itemCategory, folder)) return false;
  if (tag && !(item.tags || []).includes(tag)) return false;
  if (q) {
    const needle = q.toLocaleLowerCase();
    return [item.display_name, item.summary, itemCategory].some((text) => (text || "").toLocaleLowerCase().includes(needle));
  }
  return true;
}

const KEYS = {
  display_name: (item) => item.display_name.toLocaleLowerCase(),
  updated_at: (item) => item.updated_at || "",
  category: (item) => (item.category || "").toLocaleLowerCase(),
  source: (item) => item.source,
  assembly_type: (item) => item.assembly_type || "",
};

// One page of the favourites for the grid's request: {items, total}.
export function favouritePage(items, filters, { offset, limit, sort, order }) {
  const key = KEYS[SORT_FIELDS[sort] || sort];
  const kept = items.filter((item) => matches(item, filters));
  if (key) {
    kept.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      const by = x < y ? -1 : x > y ? 1 : a.assembly_guid.localeCompare(b.assembly_guid);
      return order === "desc" ? -by : by;
    });
  }
  return { items: kept.slice(offset, offset + limit), total: kept.length };
}
