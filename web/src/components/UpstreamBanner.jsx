import { useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import S from "../strings.js";
import { Health } from "../api.js";
import { isAdmin, useSession } from "../session.js";

// For admins: official assemblies the vendor changed (kept local edits) or dropped, with a
// link that filters the list to them. Read once per list visit (and when `reload` changes).
export default function UpstreamBanner({ onShow, reload }) {
  const session = useSession();
  const admin = isAdmin(session);
  const [counts, setCounts] = useState(null);
  useEffect(() => {
    if (!admin) return undefined;
    let live = true;
    Health.get()
      .then((health) => live && setCounts(health.official_upstream || null))
      .catch(() => live && setCounts(null));
    return () => {
      live = false;
    };
  }, [admin, reload]);
  const updates = counts?.update_available || 0;
  const removed = counts?.removed_upstream || 0;
  if (!admin || (!updates && !removed)) return null;
  return (
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
  );
}
