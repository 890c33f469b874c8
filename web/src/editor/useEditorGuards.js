// The editor's guards: every way out with unsaved edits asks (in-app navigation through
// the router's guard; closing or reloading the tab through `beforeunload`), Ctrl+S / Cmd+S
// saves instead of the browser's "Save page as", and the tab title marks unsaved work.
import { useEffect, useRef } from "react";
import S from "../strings.js";
import { useLeaveGuard } from "../router.js";
import { pageTitle } from "../format.js";

export function useEditorGuards({ touched, title, onSave }) {
  useLeaveGuard(() => (touched ? S.editor.unsavedPrompt : null));
  useEffect(() => {
    if (!touched) return undefined;
    const warn = (event) => {
      event.preventDefault();
      event.returnValue = ""; // older browsers need it set to show their prompt
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [touched]);

  const save = useRef(onSave);
  save.current = onSave;
  useEffect(() => {
    const onKey = (event) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        save.current?.();
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, []);

  useEffect(() => {
    document.title = pageTitle(title ? `${touched ? "• " : ""}${title}` : S.editor.loadingTitle);
  }, [title, touched]);
}
