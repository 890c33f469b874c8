// Whether the engine answers. api.js reports every request's outcome here; the offline
// banner and the retrying readers (withRetry) watch it, so a short outage heals by itself.
import { useEffect, useSyncExternalStore } from "react";

const listeners = new Set();
let offline = false;

function set(next) {
  if (next === offline) return;
  offline = next;
  listeners.forEach((listener) => listener());
}

export function reportReachable() {
  set(false);
}

export function reportUnreachable() {
  set(true);
}

export function isOffline() {
  return offline;
}

function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useOffline() {
  return useSyncExternalStore(subscribe, isOffline);
}

// Network failures and gateway answers (the engine restarting behind a proxy) are worth
// retrying; a refusal (4xx) or a server error is not.
export function transient(error) {
  return error?.status === 0 || error?.status === 502 || error?.status === 503 || error?.status === 504;
}

const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));

// Run `read` until it succeeds or fails for good: waits 0.5 s, 1 s, 2 s … (at most 10 s)
// between tries while the engine is unreachable. `cancelled()` stops it (page left).
export async function withRetry(read, cancelled = () => false) {
  for (let wait = 500; ; wait = Math.min(wait * 2, 10_000)) {
    try {
      return await read();
    } catch (error) {
      if (!transient(error) || cancelled()) throw error;
    }
    await sleep(wait);
    if (cancelled()) throw Object.assign(new Error("cancelled"), { cancelled: true });
  }
}

// While offline, ask the engine now and then (with backoff) whether it is back, so the
// banner clears even when no page is reading anything.
export function useReachabilityProbe() {
  const down = useOffline();
  useEffect(() => {
    if (!down) return undefined;
    let timer = null;
    let wait = 1000;
    const probe = async () => {
      try {
        const response = await fetch("/api/auth/session", { credentials: "same-origin" });
        if (![502, 503, 504].includes(response.status)) {
          reportReachable();
          return;
        }
      } catch {
        // still down
      }
      wait = Math.min(wait * 2, 10_000);
      timer = window.setTimeout(probe, wait);
    };
    timer = window.setTimeout(probe, wait);
    return () => window.clearTimeout(timer);
  }, [down]);
  return down;
}
