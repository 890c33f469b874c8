// The two sides a History comparison shows, loaded from the engine: an older side (a kept
// revision, or none before the first) and a newer side (a kept revision, or the current
// record as the editor holds it). A side is {revision} to load, {record} as is, or null.
import { useEffect, useState } from "react";
import { Assemblies } from "../api.js";

function load(guid, side) {
  if (!side) return Promise.resolve(null);
  if (side.record) return Promise.resolve(side.record);
  return Assemblies.revision(guid, side.revision);
}

export default function useRevisionPair(guid, before, after) {
  const [state, setState] = useState({ loading: true, before: null, after: null, error: null });
  const key = JSON.stringify([before?.revision ?? (before?.record ? "record" : null), after?.revision ?? (after?.record ? after.record.revision : null)]);
  useEffect(() => {
    if (!after) return undefined;
    let live = true;
    setState({ loading: true, before: null, after: null, error: null });
    Promise.all([load(guid, before), load(guid, after)])
      .then(([older, newer]) => live && setState({ loading: false, before: older, after: newer, error: null }))
      .catch((err) => live && setState({ loading: false, before: null, after: null, error: err.message }));
    return () => {
      live = false;
    };
    // `key` names both sides; the side objects are rebuilt on every render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [guid, key]);
  return state;
}
