// The one way the UI talks to the engine: same-origin cookies, JSON, the CSRF header on
// unsafe methods, and refusals turned into Error objects whose message is the engine's
// sentence (never raw JSON).
import S from "./strings.js";
import { sessionEnded } from "./data/signals.js";
import { reportReachable, reportUnreachable } from "./data/reachability.js";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

function readCookie(name) {
  const prefix = name + "=";
  for (const part of document.cookie.split(";")) {
    const item = part.trim();
    if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
  }
  return null;
}

// GET answers asked for before anything needs them (start-up: the list's first page while
// the session check runs; data/listQuery.js). The first read of the same path takes the
// answer if it is fresh and good; otherwise (a refusal, a stale cookie's 401, too old) it
// asks again, so an early answer never does anything a read of its own would not.
const EARLY_FRESH_MS = 5000;
const early = new Map(); // path -> {at, response: Promise<Response | null>}

export function askEarly(path) {
  if (early.has(path)) return;
  const response = fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } }).catch(() => null);
  early.set(path, { at: performance.now(), response });
}

async function earlyAnswer(path) {
  const asked = early.get(path);
  if (!asked) return null;
  early.delete(path);
  const response = await asked.response;
  return response?.ok && performance.now() - asked.at < EARLY_FRESH_MS ? response : null;
}

async function send(path, { method = "GET", body, headers = {} } = {}) {
  if (method === "GET" && early.has(path)) {
    const answer = await earlyAnswer(path);
    if (answer) {
      reportReachable();
      return answer;
    }
  }
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (UNSAFE.has(method)) {
    const csrf = readCookie("ae_csrf");
    if (csrf) init.headers["X-CSRF-Token"] = csrf;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    reportUnreachable();
    throw new ApiError(0, "network", S.errors.network);
  }
  // A gateway's 502/503/504 means the engine behind it is not answering (yet).
  if ([502, 503, 504].includes(response.status) && !response.headers.get("content-type")?.includes("json")) reportUnreachable();
  else reportReachable();
  if (response.ok) return response;
  let code = "error";
  let message = S.errors.status(response.status);
  let parsed = null;
  try {
    parsed = await response.json();
    if (parsed && typeof parsed.message === "string" && parsed.message) message = parsed.message;
    if (parsed && typeof parsed.error === "string") code = parsed.error;
  } catch {
    // not JSON: keep the generic sentence
  }
  // A session that ended (expired, revoked, user disabled): the app asks to sign in again
  // (over the page when it holds unsaved work).
  if (response.status === 401 && !path.startsWith("/api/auth/")) sessionEnded.emit();
  throw new ApiError(response.status, code, message, parsed);
}

export async function api(path, options) {
  const response = await send(path, options);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// Fetch a download endpoint and hand the bytes to the browser as a file.
export async function download(path, fallbackName) {
  const response = await send(path, { headers: { Accept: "*/*" } });
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const blob = await response.blob();
  saveBlob(blob, name);
}

export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const enc = encodeURIComponent;

// Query parameters without the unset ones (null/undefined; "" only where it means something).
function queryOf(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || (value === "" && key !== "category")) continue;
    query.set(key, String(value));
  }
  return query;
}

export const Assemblies = {
  list: (params) => api(Assemblies.listPath(params)),
  listPath: (params) => `/api/assemblies?${queryOf(params)}`,
  facets: (params) => api(Assemblies.facetsPath(params)),
  facetsPath: (params) => `/api/assemblies/facets?${queryOf(params)}`,
  get: (guid) => api(`/api/assemblies/${enc(guid)}`),
  create: (body) => api("/api/assemblies", { method: "POST", body }),
  update: (guid, body, revision) =>
    api(`/api/assemblies/${enc(guid)}`, { method: "PUT", body, headers: { "If-Match": String(revision) } }),
  remove: (guid) => api(`/api/assemblies/${enc(guid)}`, { method: "DELETE" }),
  clone: (guid, targetDomain, displayName) =>
    api(`/api/assemblies/${enc(guid)}/clone`, {
      method: "POST",
      body: { target_domain: targetDomain, display_name: displayName || undefined },
    }),
  // The editor sends a file's bytes; it always makes a new assembly (as_new).
  importDocument: (documentBase64, domain, fileName) =>
    api("/api/assemblies/import", {
      method: "POST",
      body: { document_base64: documentBase64, domain, file_name: fileName || undefined, as_new: true },
    }),
  previewImport: (documentBase64, domain, fileName) =>
    api("/api/assemblies/import", {
      method: "POST",
      body: { document_base64: documentBase64, domain, file_name: fileName || undefined, as_new: true, dry_run: true },
    }),
  importBatch: (documents, domain, dryRun) =>
    api("/api/assemblies/import/batch", { method: "POST", body: { documents, domain, dry_run: dryRun } }),
  exportFile: (guid, name) => download(`/api/assemblies/${enc(guid)}/export`, `${safeFileName(name)}.json`),
  // Version history (every revision kept; a restore makes a new revision) and the trash.
  revisions: (guid, params = {}) => api(`/api/assemblies/${enc(guid)}/revisions?${queryOf(params)}`),
  revision: (guid, revision) => api(`/api/assemblies/${enc(guid)}/revisions/${enc(revision)}`),
  // An admin's choice on a vendor change (take_upstream | keep_local).
  chooseUpstream: (guid, action, expectedRevision) =>
    api(`/api/assemblies/${enc(guid)}/upstream`, { method: "POST", body: { action, expected_revision: expectedRevision } }),
  restore: (guid, revision, expectedRevision) =>
    api(`/api/assemblies/${enc(guid)}/revisions/${enc(revision)}/restore`, {
      method: "POST",
      body: { expected_revision: expectedRevision },
    }),
  deleted: (params) => api(`/api/assemblies/deleted?${queryOf(params)}`),
  undelete: (guid) => api(`/api/assemblies/${enc(guid)}/undelete`, { method: "POST" }),
  downloadFile: (guid, fileName) => download(`/api/assemblies/${enc(guid)}/files/${enc(fileName)}`, fileName),
  // One request for many assemblies, one result per item ({done, refused, results}).
  // items: [{assembly_guid, expected_revision?}] (a revision: refused if changed since).
  bulk: (action, items, extra = {}) => api("/api/assemblies/bulk", { method: "POST", body: { action, items, ...extra } }),
  // The selected assemblies as a zip of the library-folder layout; answers the counts.
  bulkExport: async (guids) => {
    const body = { items: guids.map((g) => ({ assembly_guid: g })) };
    const response = await send("/api/assemblies/bulk/export", { method: "POST", body, headers: { Accept: "application/zip" } });
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    let leftOut = [];
    try {
      leftOut = JSON.parse(response.headers.get("X-Assemblies-Left-Out-Items") || "[]");
    } catch {
      // the counts still say it
    }
    saveBlob(await response.blob(), match ? decodeURIComponent(match[1]) : "assemblies.zip");
    return {
      exported: Number(response.headers.get("X-Assemblies-Exported") || 0),
      leftOutCount: Number(response.headers.get("X-Assemblies-Left-Out") || 0),
      leftOut,
    };
  },
};

// The engine's health: the list's admin banner reads the official library's upstream counts.
export const Health = { get: () => api("/api/health") };

// The signed-in user's starred assemblies, kept by the engine (Docs/assemblies.md, "Favourites").
export const Favourites = {
  list: () => api("/api/me/favourites"),
  add: (guid) => api(`/api/me/favourites/${enc(guid)}`, { method: "PUT" }),
  remove: (guid) => api(`/api/me/favourites/${enc(guid)}`, { method: "DELETE" }),
};

export const Auth = {
  me: () => api("/api/auth/me"),
  session: () => api("/api/auth/session"),
  login: (username, password) => api("/api/auth/login", { method: "POST", body: { username, password } }),
  logout: () => api("/api/auth/logout", { method: "POST" }),
  signInOptions: () => api("/api/auth/sign-in-options"),
};

// The signed-in person's own account: password (PATCH on their own user, with the current
// password) and sessions.
export const Account = {
  changePassword: (username, currentPassword, password) =>
    api(`/api/users/${enc(username)}`, { method: "PATCH", body: { password, current_password: currentPassword } }),
  sessions: () => api("/api/auth/sessions"),
  endSession: (id) => api(`/api/auth/sessions/${enc(id)}`, { method: "DELETE" }),
  endOthers: () => api("/api/auth/end-other-sessions", { method: "POST" }),
};

export const Tokens = {
  list: () => api("/api/tokens"),
  create: (name, scopes, expiresInDays) =>
    api("/api/tokens", { method: "POST", body: { name, scopes, expires_in_days: expiresInDays } }),
  revoke: (id) => api(`/api/tokens/${enc(id)}`, { method: "DELETE" }),
};

export const DevMode = {
  state: () => api("/api/assemblies/dev-mode"),
  enable: (password, reason) =>
    api("/api/assemblies/dev-mode/switch", { method: "POST", body: { enabled: true, password, reason } }),
  disable: () => api("/api/assemblies/dev-mode/switch", { method: "POST", body: { enabled: false } }),
  // Single sign-on accounts: the engine answers the provider's URL to confirm there.
  reauthenticate: (reason) => api("/api/auth/oidc/dev-mode", { method: "POST", body: { reason } }),
  flush: () => api("/api/assemblies/dev-mode/write", { method: "POST", body: {} }),
};

export function safeFileName(name) {
  const cleaned = String(name || "assembly").replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "_").trim();
  return cleaned.slice(0, 120) || "assembly";
}
