import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Divider from "@mui/material/Divider";
import LoginIcon from "@mui/icons-material/Login";
import S from "../strings.js";

// "Sign in with …": a plain link, since the round trip to the provider is a navigation
// (the engine sets its start cookie and redirects).
export default function SsoSignIn({ option, showDivider }) {
  if (!option) return null;
  return (
    <Box sx={{ mb: 1 }}>
      <Button
        href={option.start_url}
        variant="contained"
        fullWidth
        size="large"
        startIcon={<LoginIcon />}
        data-testid="sso-sign-in"
      >
        {S.signIn.withProvider(option.name)}
      </Button>
      {showDivider && (
        <Divider sx={{ my: 2 }} aria-hidden="true">
          {S.signIn.or}
        </Divider>
      )}
    </Box>
  );
}
