// A tiny history router: the engine answers index.html for every non-/api path.
//
// Pages with unsaved work register a blocker (useLeaveGuard): every in-app way out asks
// first, whether it is a link, a button, the top-bar logo, sign-out or the browser's Back
// and Forward buttons. Closing or reloading the tab is covered by `beforeunload` (the
// editor registers it next to its guard).
import { useEffect, useRef, useState } from "react";

const listeners = new Set();
const guards = new Set(); // functions answering a prompt while leaving would lose work

// Every entry this app pushes carries its position, so a blocked Back/Forward can be undone.
let position = window.history.state?.position ?? 0;
if (window.history.state?.position === undefined) {
  window.history.replaceState({ ...(window.history.state || {}), position }, "");
}
let undoing = false;

function notify() {
  listeners.forEach((listener) => listener());
}

function currentPrompt() {
  for (const guard of guards) {
    const prompt = guard();
    if (prompt) return prompt;
  }
  return null;
}

// True while a page holds work that leaving would lose.
export function hasUnsavedWork() {
  return currentPrompt() !== null;
}

// True when nothing is unsaved, or the user agreed to leave anyway.
export function confirmLeave() {
  const prompt = currentPrompt();
  return !prompt || window.confirm(prompt);
}

export function navigate(path, { replace = false, force = false } = {}) {
  if (path === window.location.pathname + window.location.search) return true;
  if (!force && !confirmLeave()) return false;
  if (replace) {
    window.history.replaceState({ position }, "", path);
  } else {
    position += 1;
    window.history.pushState({ position }, "", path);
  }
  notify();
  return true;
}

// Change the query string of the current entry without a new history entry or a re-render
// of the page (the list keeps its state there).
export function replaceQuery(search) {
  const next = window.location.pathname + (search ? `?${search}` : "");
  if (next !== window.location.pathname + window.location.search) {
    window.history.replaceState({ position }, "", next);
  }
}

window.addEventListener("popstate", (event) => {
  const target = event.state?.position ?? 0;
  if (undoing) {
    undoing = false;
    position = target;
    return;
  }
  if (!confirmLeave()) {
    // Go back to where we were: the page (and its unsaved work) never changed.
    undoing = true;
    window.history.go(position - target);
    event.stopImmediatePropagation();
    return;
  }
  position = target;
  notify();
});

// Register `prompt()` (a sentence, or null when nothing would be lost) while mounted.
export function useLeaveGuard(prompt) {
  const latest = useRef(prompt);
  latest.current = prompt;
  useEffect(() => {
    const guard = () => latest.current?.() ?? null;
    guards.add(guard);
    return () => guards.delete(guard);
  }, []);
}

export function useLocation() {
  const read = () => window.location.pathname;
  const [path, setPath] = useState(read);
  useEffect(() => {
    const update = () => setPath(read());
    listeners.add(update);
    return () => listeners.delete(update);
  }, []);
  return path;
}

export const usePath = useLocation;

// "/assemblies/new/script" → {page: "new", kind}; "/assemblies/<guid>" → {page: "edit", guid}.
export function route(path) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "assemblies" && parts[1] === "new" && parts[2]) return { page: "new", kind: parts[2] };
  if (parts[0] === "assemblies" && parts[1]) return { page: "edit", guid: parts[1] };
  if (parts[0] === "tokens" && !parts[1]) return { page: "tokens" };
  if (parts[0] === "account" && !parts[1]) return { page: "account" };
  return { page: "list" };
}

// The list's last address (with its query), so "Back to list" returns to the same view.
let lastList = "/";
export function rememberList(url) {
  lastList = url;
}
export function listUrl() {
  return lastList;
}
