import { useState } from "react";
import AppBar from "@mui/material/AppBar";
import Toolbar from "@mui/material/Toolbar";
import Typography from "@mui/material/Typography";
import IconButton from "@mui/material/IconButton";
import Tooltip from "@mui/material/Tooltip";
import Button from "@mui/material/Button";
import Box from "@mui/material/Box";
import Chip from "@mui/material/Chip";
import DarkModeIcon from "@mui/icons-material/DarkMode";
import LightModeIcon from "@mui/icons-material/LightMode";
import LogoutIcon from "@mui/icons-material/Logout";
import AccountCircleIcon from "@mui/icons-material/AccountCircle";
import KeyIcon from "@mui/icons-material/Key";
import S from "../strings.js";
import { isAdmin, useSession } from "../session.js";
import { confirmLeave, navigate } from "../router.js";
import DevModeToggle from "./DevModeToggle.jsx";

export default function TopBar({ mode, onToggleMode }) {
  const session = useSession();
  const { user } = session;
  const [busy, setBusy] = useState(false);
  return (
    <AppBar position="sticky" color="default" elevation={0} sx={{ borderBottom: 1, borderColor: "divider" }}>
      <Toolbar variant="dense" sx={{ gap: { xs: 0.5, sm: 1.5 }, px: { xs: 1, sm: 2 } }}>
        <Box
          component="a"
          href="/"
          onClick={(event) => {
            event.preventDefault();
            navigate("/");
          }}
          aria-label={S.topBar.home}
          data-testid="logo"
          sx={{ display: "flex", alignItems: "center", gap: 1, color: "inherit", textDecoration: "none", borderRadius: 1 }}
        >
          <Box component="img" src="/favicon.svg" alt="" sx={{ width: 24, height: 24 }} />
          <Typography variant="h6" sx={{ fontSize: 17, fontWeight: 700, display: { xs: "none", sm: "block" } }}>
            {S.appName}
          </Typography>
        </Box>
        <Box sx={{ flex: 1 }} />
        {isAdmin(session) && <DevModeToggle />}
        <Tooltip title={S.topBar.tokens}>
          <IconButton
            component="a"
            href="/tokens"
            aria-label={S.topBar.tokens}
            data-testid="tokens-link"
            onClick={(event) => {
              event.preventDefault();
              navigate("/tokens");
            }}
          >
            <KeyIcon />
          </IconButton>
        </Tooltip>
        <Tooltip title={mode === "dark" ? S.topBar.lightTheme : S.topBar.darkTheme}>
          <IconButton onClick={onToggleMode} aria-label={mode === "dark" ? S.topBar.lightTheme : S.topBar.darkTheme} data-testid="theme-toggle">
            {mode === "dark" ? <LightModeIcon /> : <DarkModeIcon />}
          </IconButton>
        </Tooltip>
        <Box
          component="a"
          href="/account"
          aria-label={S.account.link}
          title={S.account.link}
          onClick={(event) => {
            event.preventDefault();
            navigate("/account");
          }}
          sx={{ display: "flex", alignItems: "center", gap: 1, color: "inherit", textDecoration: "none", borderRadius: 1, px: 0.5 }}
          data-testid="user-info"
        >
          <AccountCircleIcon fontSize="small" color="action" sx={{ display: { xs: "none", sm: "block" } }} />
          <Typography variant="body2" sx={{ fontWeight: 600 }} data-testid="user-name">
            {user.username}
          </Typography>
          <Chip size="small" label={S.topBar.role[user.role] || user.role} data-testid="user-role" sx={{ display: { xs: "none", md: "flex" } }} />
        </Box>
        <Button
          size="small"
          startIcon={<LogoutIcon />}
          disabled={busy}
          aria-label={S.topBar.signOut}
          data-testid="sign-out"
          sx={{ minWidth: 0, "& .MuiButton-startIcon": { mr: { xs: 0, sm: 1 } } }}
          onClick={async () => {
            if (!confirmLeave()) return;
            setBusy(true);
            await session.signOut();
          }}
        >
          <Box component="span" sx={{ display: { xs: "none", sm: "inline" } }}>{S.topBar.signOut}</Box>
        </Button>
      </Toolbar>
    </AppBar>
  );
}
