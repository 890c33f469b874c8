import Paper from "@mui/material/Paper";
import Typography from "@mui/material/Typography";

// One titled block of the editor page.
export default function Section({ title, children, testId }) {
  return (
    <Paper variant="outlined" sx={{ p: 2.5 }} data-testid={testId}>
      <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 700, mb: 1.5 }}>
        {title}
      </Typography>
      {children}
    </Paper>
  );
}
