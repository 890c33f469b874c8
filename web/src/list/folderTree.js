// Category paths ("Windows/Maintenance") as nested folders with counts: a folder counts its
// own assemblies and everything below it. Built from the facets' category counts.
export function folderTree(categoryCounts) {
  const root = { name: "", path: "", count: 0, own: 0, children: new Map() };
  let uncategorised = 0;
  for (const [category, count] of Object.entries(categoryCounts || {})) {
    if (!category) {
      uncategorised += count;
      continue;
    }
    root.count += count;
    let node = root;
    const parts = category.split("/").filter(Boolean);
    parts.forEach((part, index) => {
      const path = parts.slice(0, index + 1).join("/");
      if (!node.children.has(part)) node.children.set(part, { name: part, path, count: 0, own: 0, children: new Map() });
      node = node.children.get(part);
      node.count += count;
    });
    node.own += count;
  }
  return { folders: sorted(root), uncategorised, total: root.count + uncategorised };
}

function sorted(node) {
  return [...node.children.values()]
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }))
    .map((child) => ({ ...child, children: sorted(child) }));
}

// The folders to show open: the chosen folder's ancestors.
export function ancestors(path) {
  if (!path) return [];
  const parts = path.split("/").filter(Boolean);
  return parts.map((_, index) => parts.slice(0, index + 1).join("/"));
}
