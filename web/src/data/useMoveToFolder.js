// A row dropped on a folder: one update of its category through the normal update route,
// If-Match the revision the list showed (a change made meanwhile is not overwritten).
import { useCallback } from "react";
import { Assemblies } from "../api.js";
import S from "../strings.js";
import { mayWrite, useSession } from "../session.js";

export function useMoveToFolder(refresh) {
  const session = useSession();
  const { notify } = session;
  return useCallback(async (row, folder) => {
    if ((row.category || "") === folder) return;
    if (!mayWrite(session, row.source)) {
      notify({ text: S.organise.moveReadOnly(row.display_name), severity: "warning" });
      return;
    }
    try {
      await Assemblies.update(row.assembly_guid, { category: folder }, row.revision);
      notify({ text: S.organise.moved(row.display_name, folder) });
    } catch (error) {
      notify({
        text: error.status === 409 ? S.organise.moveStale(row.display_name) : S.organise.moveFailed(row.display_name, error.message),
        severity: "error",
      });
    }
    refresh();
  }, [session, notify, refresh]);
}
