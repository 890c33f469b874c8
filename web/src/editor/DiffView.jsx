// Two versions of an assembly side by side: the fields that differ, then the code in a
// merge view (@codemirror/merge, fetched the first time a comparison opens, so the
// editor's chunk does not carry it).
import { useEffect, useRef, useState } from "react";
import { EditorView } from "@codemirror/view";
import { getDefaultExtensions } from "@uiw/react-codemirror";
import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";
import Stack from "@mui/material/Stack";
import CircularProgress from "@mui/material/CircularProgress";
import { useTheme } from "@mui/material/styles";
import useMediaQuery from "@mui/material/useMediaQuery";
import S from "../strings.js";
import { MONO_FONTS } from "../theme.js";
import { languageFor } from "./languages.js";
import { codeOf, codeTitle, fieldDiffs } from "./revisionDiff.js";

const COLLAPSE = { margin: 3, minSize: 6 };

// Read-only merge view. Side by side from tablet width up; on a phone one column with the
// removed lines shown above the added ones (two columns of 180 px cannot be read).
function CodeMerge({ before, after, type, beforeLabel, afterLabel }) {
  const host = useRef(null);
  const theme = useTheme();
  const narrow = useMediaQuery(theme.breakpoints.down("sm"));
  const dark = theme.palette.mode === "dark";
  const [merge, setMerge] = useState(null);
  const [failed, setFailed] = useState(null);
  useEffect(() => {
    let live = true;
    import("@codemirror/merge")
      .then((module) => live && setMerge(module))
      .catch(() => live && setFailed(S.errors.network));
    return () => {
      live = false;
    };
  }, []);
  useEffect(() => {
    if (!merge) return undefined;
    const { MergeView, unifiedMergeView } = merge;
    const extensions = [
      getDefaultExtensions({
        theme: dark ? "dark" : "light",
        editable: false,
        readOnly: true,
        indentWithTab: false,
        basicSetup: { foldGutter: false, highlightActiveLine: false, highlightActiveLineGutter: false },
      }),
      languageFor(type),
      EditorView.lineWrapping,
      EditorView.theme({ "&": { fontSize: "13px" }, ".cm-scroller": { fontFamily: MONO_FONTS } }),
    ];
    let view;
    if (narrow) {
      view = new EditorView({
        doc: after,
        extensions: [...extensions, unifiedMergeView({ original: before, mergeControls: false, collapseUnchanged: COLLAPSE })],
        parent: host.current,
      });
    } else {
      view = new MergeView({
        a: { doc: before, extensions },
        b: { doc: after, extensions },
        parent: host.current,
        collapseUnchanged: COLLAPSE,
        gutter: true,
      });
    }
    return () => view.destroy();
  }, [merge, before, after, type, narrow, dark]);
  return (
    <Box sx={{ border: 1, borderColor: "divider", borderRadius: 1, overflow: "hidden" }}>
      {!narrow && (
        <Box sx={{ display: "grid", gridTemplateColumns: "1fr 1fr", borderBottom: 1, borderColor: "divider", bgcolor: "action.hover" }}>
          <Typography variant="caption" sx={{ px: 1.5, py: 0.5, fontWeight: 600 }} data-testid="diff-left-label">{beforeLabel}</Typography>
          <Typography variant="caption" sx={{ px: 1.5, py: 0.5, fontWeight: 600, borderLeft: 1, borderColor: "divider" }} data-testid="diff-right-label">{afterLabel}</Typography>
        </Box>
      )}
      {!merge && (
        <Stack direction="row" spacing={1.5} sx={{ alignItems: "center", p: 2 }}>
          {!failed && <CircularProgress size={18} />}
          <Typography variant="body2" color={failed ? "error" : "text.secondary"}>{failed || S.diff.loading}</Typography>
        </Stack>
      )}
      <Box
        ref={host}
        data-testid="code-diff"
        sx={{ maxHeight: "60vh", overflow: "auto", "& .cm-mergeView": { maxHeight: "none" }, "& .cm-editor": { minHeight: 60 } }}
      />
    </Box>
  );
}

const BEFORE_BG = "rgba(229, 57, 53, 0.10)";
const AFTER_BG = "rgba(67, 160, 71, 0.12)";
const cell = { px: 1.5, py: 1, borderTop: 1, borderColor: "divider", whiteSpace: "pre-wrap", overflowWrap: "anywhere", minWidth: 0 };
// On a phone the two values sit under their field, marked − and + like the code diff.
const sideCell = {
  borderTopWidth: { xs: 0, sm: 1 },
  "&::before": { display: { xs: "inline", sm: "none" }, fontWeight: 700, mr: 1 },
  '&[data-testid="before"]::before': { content: '"−"' },
  '&[data-testid="after"]::before': { content: '"+"' },
};

// Which colour is which side (on a phone the two columns' headers are not shown).
function Legend({ beforeLabel, afterLabel }) {
  const swatch = (bg) => ({ display: "inline-block", width: 12, height: 12, borderRadius: 0.5, bgcolor: bg, border: 1, borderColor: "divider", mr: 0.75, verticalAlign: "middle" });
  return (
    <Box sx={{ display: { xs: "grid", sm: "none" }, gap: 0.25, mb: 1 }} data-testid="diff-legend">
      <Typography variant="caption"><Box component="span" sx={swatch(BEFORE_BG)} />− {beforeLabel}</Typography>
      <Typography variant="caption"><Box component="span" sx={swatch(AFTER_BG)} />+ {afterLabel}</Typography>
    </Box>
  );
}

function FieldTable({ diffs, beforeLabel, afterLabel }) {
  return (
    <Box
      role="table"
      data-testid="field-diff"
      sx={{ display: "grid", gridTemplateColumns: { xs: "1fr", sm: "minmax(120px, 0.6fr) 1fr 1fr" }, border: 1, borderColor: "divider", borderRadius: 1, overflow: "hidden" }}
    >
      <Box role="row" sx={{ display: { xs: "none", sm: "contents" }, "& > *": { px: 1.5, py: 0.5, bgcolor: "action.hover", fontWeight: 600 } }}>
        <Typography role="columnheader" variant="caption">{S.diff.field}</Typography>
        <Typography role="columnheader" variant="caption">{beforeLabel}</Typography>
        <Typography role="columnheader" variant="caption">{afterLabel}</Typography>
      </Box>
      {diffs.map((d) => (
        <Box role="row" key={d.field} data-testid={`field-diff-${d.field}`} sx={{ display: "contents" }}>
          <Typography role="rowheader" variant="body2" sx={{ ...cell, fontWeight: 600 }}>{d.label}</Typography>
          <Typography role="cell" variant="body2" data-testid="before" aria-label={`${beforeLabel}: ${d.before}`} sx={{ ...cell, ...sideCell, bgcolor: BEFORE_BG }}>
            {d.before}
          </Typography>
          <Typography role="cell" variant="body2" data-testid="after" aria-label={`${afterLabel}: ${d.after}`} sx={{ ...cell, ...sideCell, bgcolor: AFTER_BG }}>
            {d.after}
          </Typography>
        </Box>
      ))}
    </Box>
  );
}

// `before` and `after` are editor forms; the labels name the two sides.
export default function DiffView({ before, after, beforeLabel, afterLabel }) {
  const diffs = fieldDiffs(before, after);
  const codeBefore = codeOf(before);
  const codeAfter = codeOf(after);
  return (
    <Box sx={{ display: "grid", gap: 2 }} data-testid="diff-view">
      <Legend beforeLabel={beforeLabel} afterLabel={afterLabel} />
      <Box>
        <Typography variant="subtitle2" component="h3" sx={{ mb: 1 }}>{S.diff.fields}</Typography>
        {diffs.length ? (
          <FieldTable diffs={diffs} beforeLabel={beforeLabel} afterLabel={afterLabel} />
        ) : (
          <Typography variant="body2" color="text.secondary" data-testid="no-field-diff">{S.diff.noFieldChanges}</Typography>
        )}
      </Box>
      <Box>
        <Typography variant="subtitle2" component="h3" sx={{ mb: 1 }}>{codeTitle(after)}</Typography>
        {codeBefore === codeAfter ? (
          <Typography variant="body2" color="text.secondary" data-testid="same-code">{S.diff.sameCode}</Typography>
        ) : (
          <CodeMerge before={codeBefore} after={codeAfter} type={after.assembly_type} beforeLabel={beforeLabel} afterLabel={afterLabel} />
        )}
      </Box>
    </Box>
  );
}
