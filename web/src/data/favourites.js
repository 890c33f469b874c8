// The signed-in user's favourites (GET /api/me/favourites), one copy for the whole page:
// every star (list rows, the editor) and the Favourites view read it, and a star flips at
// once, going back if the engine refuses.
import { useEffect, useSyncExternalStore } from "react";
import { Favourites } from "../api.js";

let state = { user: null, guids: new Set(), items: [], limit: null, loaded: false };
const listeners = new Set();

function publish(next) {
  state = next;
  listeners.forEach((listener) => listener());
}

function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

let reading = null; // {user, promise}: one read at a time however many stars ask

// Read the favourites again (after a change, or for a newly signed-in user).
export function loadFavourites(user) {
  if (reading && reading.user === user) return reading.promise;
  const promise = Favourites.list()
    .then((answer) => {
      publish({ user, guids: new Set(answer.items.map((item) => item.assembly_guid)), items: answer.items, limit: answer.limit, loaded: true });
      return answer;
    })
    .finally(() => {
      if (reading?.promise === promise) reading = null;
    });
  reading = { user, promise };
  return promise;
}

// Star or unstar; the engine's refusal is thrown after the star went back.
export async function setFavourite(user, assembly, on) {
  const before = state;
  const guids = new Set(state.guids);
  if (on) guids.add(assembly.assembly_guid);
  else guids.delete(assembly.assembly_guid);
  publish({ ...state, guids });
  try {
    await (on ? Favourites.add(assembly.assembly_guid) : Favourites.remove(assembly.assembly_guid));
  } catch (error) {
    if (!(error.status === 404 && !on)) { // unstarring one already gone is what was asked
      publish(before);
      throw error;
    }
  }
  await loadFavourites(user).catch(() => {});
}

// The favourites of `user` (a username; null while signed out).
export function useFavourites(user) {
  const current = useSyncExternalStore(subscribe, () => state);
  useEffect(() => {
    if (user && (state.user !== user || !state.loaded)) loadFavourites(user).catch(() => {});
  }, [user]);
  return current.user === user ? current : { user, guids: new Set(), items: [], limit: null, loaded: false };
}
