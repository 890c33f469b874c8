import Box from "@mui/material/Box";
import Chip from "@mui/material/Chip";
import Typography from "@mui/material/Typography";
import S from "../strings.js";

const COLOR = { error: "error", warning: "warning", info: "info" };

// The count beside Save: "2 errors · 1 warning", or nothing before the first answer.
export function CheckCount({ checks }) {
  if (!checks) return null;
  const { error = 0, warning = 0, info = 0 } = checks.counts || {};
  const color = error ? "error" : warning ? "warning" : "success";
  return (
    <Chip size="small" variant="outlined" color={color} data-testid="check-count"
      label={S.checks.count(error, warning + info)} title={S.checks.countTitle} />
  );
}

// Every diagnostic of the last check, in order, under the code editor. note: a line under
// the title saying which check this is. Before the first answer (or when there is none) its
// title line is kept empty, so the form below does not move down under the pointer when
// the answer comes.
export default function ProblemsPanel({ checks, note = null, testId = "problems" }) {
  if (!checks) {
    return (
      <Box data-testid={`${testId}-placeholder`} aria-hidden sx={{ mt: 1 }}>
        <Typography variant="subtitle2" component="p" sx={{ visibility: "hidden" }}>{"\u00a0"}</Typography>
      </Box>
    );
  }
  const problems = checks.diagnostics || [];
  const missing = (checks.checkers || []).filter((c) => !c.available || c.timed_out || c.failed);
  return (
    <Box data-testid={testId} sx={{ mt: 1 }}>
      <Typography variant="subtitle2" component="h3">{S.checks.title(problems.length)}</Typography>
      {note && <Typography variant="caption" color="text.secondary" component="p">{note}</Typography>}
      {missing.map((c) => (
        <Typography key={c.name} variant="caption" color="text.secondary" component="p" data-testid="checker-note">
          {!c.available ? S.checks.unavailable(c.name) : c.timed_out ? S.checks.timedOut(c.name) : S.checks.failed(c.name)}
        </Typography>
      ))}
      <Box component="ul" sx={{ listStyle: "none", p: 0, m: 0, maxHeight: 180, overflow: "auto" }}>
        {problems.map((d, i) => (
          <Box component="li" key={i} data-testid="problem" sx={{ display: "flex", gap: 1, alignItems: "baseline", py: 0.25 }}>
            <Chip size="small" color={COLOR[d.severity]} label={d.severity} sx={{ minWidth: 64 }} />
            <Typography variant="body2" component="span" sx={{ fontFamily: "monospace" }}>{`${d.line}:${d.column}`}</Typography>
            <Typography variant="body2" component="span">{d.message}</Typography>
            <Typography variant="caption" color="text.secondary" component="span">{`${d.code} · ${d.source}`}</Typography>
          </Box>
        ))}
      </Box>
    </Box>
  );
}

// A read-only view (nothing is checked as it is typed there) shows the engine's stored
// check of the saved script: the detail's `checks` (Docs/script-checks.md), or that it is
// still to come.
export function StoredCheck({ checks }) {
  if (!checks) return null;
  if (checks.status !== "checked") {
    return (
      <Typography variant="caption" color="text.secondary" component="p" sx={{ mt: 1 }} data-testid="stored-check-pending">
        {S.checks.pending}
      </Typography>
    );
  }
  return <ProblemsPanel checks={checks} note={S.checks.stored} testId="stored-check" />;
}
