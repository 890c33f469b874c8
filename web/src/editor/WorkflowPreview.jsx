import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";
import { useTheme } from "@mui/material/styles";
import S from "../strings.js";

const DEFAULT_W = 160;
const DEFAULT_H = 60;
const PAD = 24;

// Shorten text to what fits a box of width w (approximate glyph width in px).
function fit(text, w, glyph) {
  const max = Math.max(4, Math.floor((w - 20) / glyph));
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function num(value, fallback) {
  return Number.isFinite(value) ? value : fallback;
}

// Read-only picture of a workflow: nodes as boxes at node.position, edges as arrows.
export default function WorkflowPreview({ workflow }) {
  const theme = useTheme();
  if (!workflow) {
    return <Typography color="error" variant="body2">{S.editor.workflowInvalid}</Typography>;
  }
  const nodes = Array.isArray(workflow.nodes) ? workflow.nodes : [];
  const edges = Array.isArray(workflow.edges) ? workflow.edges : [];
  if (nodes.length === 0) {
    return <Typography color="text.secondary" variant="body2">{S.editor.workflowEmpty}</Typography>;
  }
  const boxes = new Map();
  nodes.forEach((node, index) => {
    const x = num(node?.position?.x, index * (DEFAULT_W + 40));
    const y = num(node?.position?.y, 0);
    const w = num(node?.width, DEFAULT_W);
    const h = num(node?.height, DEFAULT_H);
    const label = String(node?.data?.label ?? node?.id ?? `node ${index + 1}`);
    const accent = typeof node?.data?.accentColor === "string" ? node.data.accentColor : theme.palette.primary.main;
    boxes.set(String(node?.id ?? index), { x, y, w, h, label, type: String(node?.type ?? ""), accent });
  });
  const all = [...boxes.values()];
  const minX = Math.min(...all.map((b) => b.x)) - PAD;
  const minY = Math.min(...all.map((b) => b.y)) - PAD;
  const maxX = Math.max(...all.map((b) => b.x + b.w)) + PAD;
  const maxY = Math.max(...all.map((b) => b.y + b.h)) + PAD;
  const stroke = theme.palette.text.secondary;
  const fill = theme.palette.background.paper;
  return (
    <Box
      sx={{ border: 1, borderColor: "divider", borderRadius: 1, bgcolor: "action.hover", overflow: "auto" }}
      data-testid="workflow-preview"
    >
      <svg
        viewBox={`${minX} ${minY} ${maxX - minX} ${maxY - minY}`}
        width="100%"
        style={{ display: "block", maxHeight: 420, minHeight: 160 }}
        role="img"
        aria-label={S.editor.workflowPreview}
      >
        <defs>
          <marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" fill={stroke} />
          </marker>
        </defs>
        {edges.map((edge, index) => {
          const a = boxes.get(String(edge?.source));
          const b = boxes.get(String(edge?.target));
          if (!a || !b) return null;
          const x1 = a.x + a.w;
          const y1 = a.y + a.h / 2;
          const x2 = b.x;
          const y2 = b.y + b.h / 2;
          const bend = Math.max(30, Math.abs(x2 - x1) / 2);
          return (
            <path
              key={edge?.id ?? index}
              d={`M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`}
              fill="none"
              stroke={stroke}
              strokeWidth="2"
              markerEnd="url(#wf-arrow)"
              data-testid="workflow-edge"
            />
          );
        })}
        {[...boxes.entries()].map(([id, b]) => (
          <g key={id} data-testid="workflow-node">
            <rect x={b.x} y={b.y} width={b.w} height={b.h} rx="8" fill={fill} stroke={b.accent} strokeWidth="2" />
            <rect x={b.x} y={b.y} width={b.w} height="6" rx="3" fill={b.accent} />
            <text x={b.x + 10} y={b.y + 28} fontSize="13" fontWeight="600" fill={theme.palette.text.primary}>
              {fit(b.label, b.w, 7.6)}
            </text>
            <text x={b.x + 10} y={b.y + 46} fontSize="11" fill={theme.palette.text.secondary}>
              {fit(b.type, b.w, 6.4)}
            </text>
          </g>
        ))}
      </svg>
    </Box>
  );
}
