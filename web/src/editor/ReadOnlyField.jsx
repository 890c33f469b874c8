import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";
import S from "../strings.js";

// A read-only value shown as text: full contrast, wrapped, never cut off.
export default function ReadOnlyField({ label, value, testId, sx }) {
  const empty = value === undefined || value === null || String(value).trim() === "";
  return (
    <Box sx={sx} data-testid={testId}>
      <Typography variant="caption" component="div" color="text.secondary" sx={{ fontWeight: 600 }}>
        {label}
      </Typography>
      <Typography
        variant="body1"
        component="div"
        data-testid={testId ? `${testId}-value` : undefined}
        color={empty ? "text.secondary" : "text.primary"}
        sx={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}
      >
        {empty ? S.editor.emptyValue : String(value)}
      </Typography>
    </Box>
  );
}
