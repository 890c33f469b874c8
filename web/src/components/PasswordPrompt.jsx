// Asks for a password of one's own while the current one was chosen by someone else (the
// generated first admin password, or one an administrator set): a banner, never a wall, so
// work in progress goes on; the Account page takes the change.
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import { navigate } from "../router.js";
import { useSession } from "../session.js";
import S from "../strings.js";

export default function PasswordPrompt() {
  const session = useSession();
  if (!session.mustChangePassword || session.user?.sso) return null;
  return (
    <Alert severity="warning" square data-testid="password-prompt"
      action={<Button color="inherit" size="small" data-testid="password-prompt-action" onClick={() => navigate("/account")}>{S.account.mustChangeAction}</Button>}>
      {S.account.mustChange}
    </Alert>
  );
}
