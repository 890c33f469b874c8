import { createContext, useContext } from "react";
import { DevMode } from "./api.js";
import S from "./strings.js";

// Who is signed in, their Dev Mode state and what they may write (data/useWho.js).
export const SessionContext = createContext(null);

export function useSession() {
  return useContext(SessionContext);
}

export function isAdmin(session) {
  return session?.user?.role === "admin";
}

export function devModeOn(session) {
  return isAdmin(session) && Boolean(session?.devMode?.enabled);
}

// What the engine said the caller may write now (writable_domains on /api/auth/me): the
// UI never copies the engine's rules, and the engine still checks every request.
export function writableDomains(session) {
  return session?.user ? session.writableDomains ?? [] : [];
}

export function mayWrite(session, domain) {
  return writableDomains(session).includes(domain);
}

// Dev Mode off, from the top bar's switch or the banner: one request, one notice.
export async function disableDevMode(session) {
  try {
    session.setDevMode(await DevMode.disable());
    session.notify({ text: S.devMode.disabled, severity: "info" });
  } catch (error) {
    session.notify({ text: error.message, severity: "error" });
  }
}
