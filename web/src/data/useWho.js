// What the engine says the signed-in person may do now: the domains they may write (role,
// this session's Dev Mode) and whether they must choose their own password. The UI offers
// New, Edit, Delete and Clone from this and never copies the engine's rules.
import { useCallback, useEffect, useState } from "react";
import { Auth } from "../api.js";

export function whoOf(answer) {
  return {
    writableDomains: Array.isArray(answer?.writable_domains) ? answer.writable_domains : [],
    mustChangePassword: Boolean(answer?.must_change_password),
  };
}

export const NOBODY = whoOf(null);

// `key` changes whenever the answer may have changed (sign-in, Dev Mode on, off or expired).
export default function useWho(initial, key) {
  const [who, setWho] = useState(initial);
  const refreshWho = useCallback(async () => {
    try {
      setWho(whoOf(await Auth.me()));
    } catch {
      // a 401 is reported by api.js (sessionEnded); anything else: the next change asks again
    }
  }, []);
  useEffect(() => {
    if (key) refreshWho();
  }, [key, refreshWho]);
  return [who, setWho, refreshWho];
}
