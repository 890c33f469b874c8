// The list's state (view, filters, search, sort, page) read from and written back to the
// address, so a view can be shared and Back returns to it. The search arrives debounced
// (list/SearchBox.jsx).
import { useEffect, useMemo, useRef, useState } from "react";
import { rememberList, replaceQuery } from "../router.js";
import { stateFromUrl, urlFromState } from "../listAddress.js";

export function useListState() {
  const initial = useRef(stateFromUrl()).current;
  const [deleted, setDeleted] = useState(initial.deleted);
  const [domain, setDomain] = useState(initial.domain);
  const [kind, setKind] = useState(initial.kind);
  const [category, setCategory] = useState(initial.category);
  const [folder, setFolder] = useState(initial.folder); // a category path and what lies below it
  const [tag, setTag] = useState(initial.tag);
  const [checks, setChecks] = useState(initial.checks); // errors | clean | unchecked (script checks)
  const [favourites, setFavourites] = useState(initial.favourites);
  const [vendor, setVendor] = useState(initial.vendor); // signature / upstream filter
  const [q, setQ] = useState(initial.q);
  const [view, setView] = useState({ sort: initial.sort, order: initial.order, page: initial.page, size: initial.size });

  // Every change of the list's state goes into the address (no new history entry).
  useEffect(() => {
    replaceQuery(urlFromState({ deleted, favourites, domain, kind, category, folder, tag, vendor, checks, q, ...view }));
    rememberList(window.location.pathname + window.location.search);
  }, [deleted, favourites, domain, kind, category, folder, tag, vendor, checks, q, view]);

  // Newest deletions first in the deleted view; the list's default order back in the list.
  const switchView = () => {
    setView((v) => ({ ...v, sort: deleted ? null : "deleted_at", order: deleted ? "asc" : "desc", page: 1 }));
    setDeleted(!deleted);
    setFavourites(false);
  };
  // The folder tree and the category filter name the same thing: one replaces the other.
  const chooseFolder = (path) => {
    setCategory(null);
    setFolder(path);
    setView((v) => ({ ...v, page: 1 }));
  };
  const chooseCategory = (value) => {
    setFolder(null);
    setCategory(value);
  };

  // One object per state (not per render), so the parts of the page given it re-render
  // only when the list's state changed.
  return useMemo(() => ({
    initial, deleted, setDeleted, switchView, domain, setDomain, kind, setKind, category, setCategory: chooseCategory, vendor, setVendor,
    checks, setChecks, setSearch: setQ, q, view, setView, folder, setFolder: chooseFolder, tag, setTag, favourites, setFavourites,
  }), [deleted, domain, kind, category, vendor, checks, q, view, folder, tag, favourites]); // eslint-disable-line react-hooks/exhaustive-deps
}
