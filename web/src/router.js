// A tiny history router: the engine answers index.html for every non-/api path.
import { useEffect, useState } from "react";

const listeners = new Set();

export function navigate(path, { replace = false } = {}) {
  if (path === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  listeners.forEach((listener) => listener());
}

export function usePath() {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return path;
}

// "/assemblies/new/script" → {page: "new", kind}; "/assemblies/<guid>" → {page: "edit", guid}.
export function route(path) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "assemblies" && parts[1] === "new" && parts[2]) return { page: "new", kind: parts[2] };
  if (parts[0] === "assemblies" && parts[1]) return { page: "edit", guid: parts[1] };
  return { page: "list" };
}
