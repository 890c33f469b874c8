import { lazy, Suspense } from "react";
import Stack from "@mui/material/Stack";
import Typography from "@mui/material/Typography";
import CircularProgress from "@mui/material/CircularProgress";
import S from "../strings.js";

// The diff view (and @codemirror/merge with it) is fetched the first time a comparison
// opens, never with the editor.
const DiffView = lazy(() => import("./DiffView.jsx"));

export default function LazyDiffView(props) {
  return (
    <Suspense
      fallback={
        <Stack direction="row" spacing={1.5} sx={{ alignItems: "center", py: 2 }}>
          <CircularProgress size={20} />
          <Typography variant="body2" color="text.secondary">{S.diff.loading}</Typography>
        </Stack>
      }
    >
      <DiffView {...props} />
    </Suspense>
  );
}
