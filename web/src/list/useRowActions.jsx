// What the row menu does (open, clone, rename, delete with undo, export) and Undelete in the
// Deleted view, with the menu and the dialogs they open. `element` is placed once by the
// list page; the callbacks go to the grid (its cells and keys).
import { useCallback, useState } from "react";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { navigate } from "../router.js";
import { mayWrite } from "../session.js";
import { CloneDialog, DeleteDialog, RenameDialog } from "../components/Dialogs.jsx";
import RowMenu from "./RowMenu.jsx";

// refresh(): re-read the rows; onRefused(text): an undelete refused (shown above the grid).
export function useRowActions({ session, refresh, onRefused }) {
  const { notify } = session;
  const [menu, setMenu] = useState(null);
  const [cloning, setCloning] = useState(null);
  const [renaming, setRenaming] = useState(null);
  const [deleting, setDeleting] = useState(null);

  const openMenu = useCallback((anchor, data) => setMenu({ anchor, data }), []);
  // Undelete from the deleted view: a 409 (the id is in use again) or a refusal stays on
  // screen above the grid until closed.
  const undelete = useCallback(async (assembly) => {
    onRefused(null);
    try {
      const back = await Assemblies.undelete(assembly.assembly_guid);
      notify({ text: S.list.undeleted(back.display_name, back.revision) });
    } catch (error) {
      onRefused(error.status === 409
        ? S.list.undeleteInUse(assembly.display_name, error.message)
        : S.list.undeleteFailed(assembly.display_name, error.message));
    }
    refresh();
  }, [notify, refresh, onRefused]);
  const mayUndelete = useCallback((assembly) => mayWrite(session, assembly.source), [session]);

  const doClone = async (assembly, target, name) => {
    const created = await Assemblies.clone(assembly.assembly_guid, target, name);
    setCloning(null);
    notify({ text: S.list.cloned(created.display_name, S.domains[target]) });
    navigate(`/assemblies/${created.assembly_guid}`);
  };
  const doRename = async (assembly, name) => {
    await Assemblies.update(assembly.assembly_guid, { display_name: name }, assembly.revision);
    setRenaming(null);
    notify({ text: S.list.renamed(name) });
    refresh();
  };
  const doDelete = async (assembly) => {
    await Assemblies.remove(assembly.assembly_guid);
    setDeleting(null);
    const undo = async () => {
      try {
        const back = await Assemblies.undelete(assembly.assembly_guid);
        notify({ text: S.list.undeleted(back.display_name, back.revision) });
      } catch (error) {
        notify({ text: S.list.undeleteFailed(assembly.display_name, error.message), severity: "error" });
      }
      refresh();
    };
    notify({ text: S.list.deleted(assembly.display_name), action: { label: S.dialogs.undo, run: undo } });
    refresh();
  };
  const doExport = async (assembly) => {
    try {
      await Assemblies.exportFile(assembly.assembly_guid, assembly.display_name);
    } catch (error) {
      notify({ text: error.message, severity: "error" });
    }
  };

  const element = (
    <>
      <RowMenu
        menu={menu}
        writable={Boolean(menu?.data) && mayWrite(session, menu.data.source)}
        onClose={() => setMenu(null)}
        onOpen={(row) => navigate(`/assemblies/${row.assembly_guid}`)}
        onClone={setCloning}
        onRename={setRenaming}
        onDelete={setDeleting}
        onExport={doExport}
      />
      <CloneDialog assembly={cloning} onClose={() => setCloning(null)} onClone={doClone} />
      <RenameDialog assembly={renaming} onClose={() => setRenaming(null)} onRename={doRename} />
      <DeleteDialog assembly={deleting} onClose={() => setDeleting(null)} onDelete={doDelete} />
    </>
  );
  return { openMenu, undelete, mayUndelete, element };
}
