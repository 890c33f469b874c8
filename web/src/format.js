// Small formatting helpers shared by the pages. Kept apart from the pages so a page chunk
// never imports another page (the editor must not pull in the list's grid).
import S from "./strings.js";

// One formatter for every call (toLocaleString with options builds a new one each time: a
// screen of grid rows formats one per row).
const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(iso) {
  if (!iso) return S.time.never;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : TIME.format(date);
}

const COUNT = new Intl.NumberFormat("en-US");

// 10045 → "10,045" (grouping the same way in every locale the UI runs in).
export function formatCount(value) {
  return Number.isFinite(value) ? COUNT.format(value) : "…";
}

// The browser tab's title: "<what> · Assembly Engine".
export function pageTitle(what) {
  return what ? `${what} · ${S.appName}` : S.appName;
}
