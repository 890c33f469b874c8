// Your account: who you are, your password, your sessions and a way to your API tokens.
import { useEffect, useState } from "react";
import Box from "@mui/material/Box";
import Button from "@mui/material/Button";
import Paper from "@mui/material/Paper";
import Typography from "@mui/material/Typography";
import { pageTitle } from "../format.js";
import { navigate } from "../router.js";
import { useSession } from "../session.js";
import S from "../strings.js";
import PasswordForm from "../account/PasswordForm.jsx";
import SessionsPanel from "../account/SessionsPanel.jsx";

function Card({ title, children, testid }) {
  return (
    <Paper variant="outlined" sx={{ p: { xs: 1.5, sm: 2.5 } }} data-testid={testid}>
      <Typography variant="h6" component="h2" sx={{ fontSize: 17, mb: 1.5 }}>{title}</Typography>
      {children}
    </Paper>
  );
}

export default function Account() {
  const session = useSession();
  const { user } = session;
  // A password change ends the other sessions: the list is read again afterwards.
  const [changes, setChanges] = useState(0);
  useEffect(() => {
    document.title = pageTitle(S.account.title);
  }, []);
  return (
    <Box sx={{ display: "grid", gap: 2, maxWidth: 880, width: "100%", mx: "auto" }} data-testid="account-page">
      <Box>
        <Typography variant="h5" component="h1">{S.account.title}</Typography>
        <Typography variant="body2" color="text.secondary" data-testid="account-who">
          {S.account.signedInAs(user.username, S.topBar.role[user.role] || user.role)}
        </Typography>
      </Box>
      <Card title={S.account.password} testid="account-password">
        <PasswordForm onChanged={() => setChanges((n) => n + 1)} />
      </Card>
      <Card title={S.account.sessions} testid="account-sessions">
        <SessionsPanel reloadKey={changes} />
      </Card>
      <Card title={S.account.tokens} testid="account-tokens">
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>{S.account.tokensIntro}</Typography>
        <Button variant="outlined" href="/tokens" data-testid="account-tokens-link"
          onClick={(event) => { event.preventDefault(); navigate("/tokens"); }}>
          {S.account.tokensLink}
        </Button>
      </Card>
    </Box>
  );
}
