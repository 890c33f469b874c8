// Shown while the engine does not answer; the readers retry by themselves (data/reachability.js).
import Alert from "@mui/material/Alert";
import S from "../strings.js";
import { useReachabilityProbe } from "../data/reachability.js";

export default function OfflineBanner() {
  const offline = useReachabilityProbe();
  if (!offline) return null;
  return (
    <Alert severity="warning" role="status" data-testid="offline-banner" sx={{ borderRadius: 0 }}>
      {S.offline.banner}
    </Alert>
  );
}
