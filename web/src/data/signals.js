// Named signals between parts of the UI that do not render each other (the session ends,
// the top bar's Dev Mode prompt should open, the write queue moved). A module-level
// subscription list instead of `window` events: who listens is visible in the imports.
function signal() {
  const listeners = new Set();
  return {
    emit(value) {
      listeners.forEach((listener) => listener(value));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

// A request was refused with 401: the session is gone (expired, revoked, signed out elsewhere).
export const sessionEnded = signal();
// Open the Dev Mode prompt (the read-only banner, the Dev Mode expiry notice).
export const devModePrompt = signal();
// Stored assemblies changed (a flush, a save, a delete): lists and counts read again.
export const assembliesChanged = signal();
