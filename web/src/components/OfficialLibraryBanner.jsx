import { memo, useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import S from "../strings.js";
import { Health } from "../api.js";
import { isAdmin, useSession } from "../session.js";

// For admins, what the official library needs from them, read from /api/health once per
// list visit and after each change (`reload` counts them; not per search or filter): a staging copy refused or marked by its signature
// check (Docs/official-library.md, "Trust"), and assemblies the vendor changed (local
// edits kept) or dropped, with a link that filters the list to them.
function OfficialLibraryBanner({ onShow, reload }) {
  const session = useSession();
  const admin = isAdmin(session);
  const [health, setHealth] = useState(null);
  useEffect(() => {
    if (!admin) return undefined;
    let live = true;
    Health.get()
      .then((answer) => live && setHealth(answer))
      .catch(() => live && setHealth(null));
    return () => {
      live = false;
    };
  }, [admin, reload]);
  if (!admin || !health) return null;
  const signatures = health.official_signatures;
  const trouble = signatures && (signatures.state === "refused" || signatures.state === "warning");
  const updates = health.official_upstream?.update_available || 0;
  const removed = health.official_upstream?.removed_upstream || 0;
  if (!trouble && !updates && !removed) return null;
  return (
    <Stack spacing={1}>
      {trouble && (
        <Alert severity={signatures.state === "refused" ? "error" : "warning"} data-testid="signature-banner">
          {signatures.state === "refused" ? S.signatures.refused : S.signatures.warning}{" "}
          {signatures.problems.join(" ")}
        </Alert>
      )}
      {(updates > 0 || removed > 0) && (
        <Alert
          severity="info"
          data-testid="upstream-banner"
          action={
            <Button color="inherit" size="small" onClick={onShow} data-testid="upstream-show" sx={{ whiteSpace: "nowrap" }}>
              {S.upstream.show}
            </Button>
          }
        >
          {S.upstream.banner(updates, removed)}
        </Alert>
      )}
    </Stack>
  );
}

// Memoised: the list page re-renders often (counts arriving, selections); this only when its props change.
export default memo(OfficialLibraryBanner);
