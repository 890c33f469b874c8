import { useEffect, useState } from "react";
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import S from "../strings.js";
import { Assemblies } from "../api.js";
import { formFromRecord } from "../assemblyForm.js";
import { isAdmin, mayWrite, useSession } from "../session.js";
import DiffView from "./DiffView.jsx";

// The three versions of an official assembly the vendor changed: the vendor base, yours and
// the new vendor version, as two comparisons (History's diff view).
function ThreeWay({ record }) {
  const [versions, setVersions] = useState(null);
  const [error, setError] = useState(null);
  const { base_revision: base, revision } = record.upstream;
  const guid = record.assembly_guid;
  useEffect(() => {
    let live = true;
    Promise.all([base ? Assemblies.revision(guid, base) : null, Assemblies.revision(guid, revision)])
      .then(([baseRecord, vendor]) => live && setVersions({ baseRecord, vendor }))
      .catch((err) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [guid, base, revision]);
  if (error) return <Alert severity="error">{error}</Alert>;
  if (!versions) return <Typography color="text.secondary">{S.upstream.loading}</Typography>;
  const mine = formFromRecord(record);
  return (
    <Stack spacing={2} data-testid="upstream-diff">
      {versions.baseRecord && (
        <>
          <Typography variant="subtitle2">{S.upstream.baseVsLocal}</Typography>
          <DiffView before={formFromRecord(versions.baseRecord)} after={mine}
            beforeLabel={S.upstream.baseLabel(base)} afterLabel={S.upstream.localLabel(record.revision)} />
        </>
      )}
      <Typography variant="subtitle2">{S.upstream.localVsVendor}</Typography>
      <DiffView before={mine} after={formFromRecord(versions.vendor)}
        beforeLabel={S.upstream.localLabel(record.revision)} afterLabel={S.upstream.vendorLabel(revision)} />
    </Stack>
  );
}

// Shown on an official assembly waiting for an admin's choice (update_available or
// removed_upstream); the choice needs Dev Mode, as any write to official.
export default function UpstreamChoice({ record, onResolved, onError }) {
  const session = useSession();
  const [comparing, setComparing] = useState(false);
  const [busy, setBusy] = useState(false);
  const state = record?.upstream?.state;
  if (!isAdmin(session) || (state !== "update_available" && state !== "removed_upstream")) return null;
  const mayChoose = mayWrite(session, "official") && !busy;
  const choose = async (action) => {
    setBusy(true);
    try {
      const resolved = await Assemblies.chooseUpstream(record.assembly_guid, action, record.revision);
      onResolved(action === "take_upstream" ? S.upstream.taken(resolved.revision) : S.upstream.kept(resolved.revision));
    } catch (err) {
      onError(err.message);
    } finally {
      setBusy(false);
    }
  };
  const updatable = state === "update_available";
  return (
    <Stack spacing={2}>
    <Alert
      severity="info"
      data-testid="upstream-choice"
      data-state={state}
      action={
        <Stack direction={{ xs: "column", sm: "row" }} spacing={1}>
          {updatable && (
            <Button color="inherit" size="small" onClick={() => setComparing((c) => !c)} data-testid="upstream-compare" sx={{ whiteSpace: "nowrap" }}>
              {comparing ? S.upstream.hideCompare : S.upstream.compare}
            </Button>
          )}
          {updatable && (
            <Button color="inherit" size="small" variant="outlined" disabled={!mayChoose} onClick={() => choose("take_upstream")} data-testid="upstream-take" sx={{ whiteSpace: "nowrap" }}>
              {S.upstream.take}
            </Button>
          )}
          <Button color="inherit" size="small" variant="outlined" disabled={!mayChoose} onClick={() => choose("keep_local")} data-testid="upstream-keep" sx={{ whiteSpace: "nowrap" }}>
            {S.upstream.keep}
          </Button>
        </Stack>
      }
    >
      <Typography variant="body2">{updatable ? S.upstream.updateAvailable : S.upstream.removedUpstream}</Typography>
      {!mayWrite(session, "official") && <Typography variant="body2" sx={{ mt: 0.5 }}>{S.upstream.needDevMode}</Typography>}
    </Alert>
    {comparing && updatable && <ThreeWay record={record} />}
    </Stack>
  );
}
