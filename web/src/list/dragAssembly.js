// A list row dragged onto a folder: what the drag carries (the row as the list read it,
// so the move can send If-Match with the revision the user saw).
export const ASSEMBLY_DRAG_TYPE = "application/x-assembly-row";

export function startAssemblyDrag(event, row) {
  const carried = {
    assembly_guid: row.assembly_guid,
    display_name: row.display_name,
    revision: row.revision,
    source: row.source,
    category: row.category || "",
  };
  event.dataTransfer.setData(ASSEMBLY_DRAG_TYPE, JSON.stringify(carried));
  event.dataTransfer.setData("text/plain", row.display_name);
  event.dataTransfer.effectAllowed = "move";
}
