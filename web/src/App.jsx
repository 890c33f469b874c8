import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import CssBaseline from "@mui/material/CssBaseline";
import Box from "@mui/material/Box";
import CircularProgress from "@mui/material/CircularProgress";
import Snackbar from "@mui/material/Snackbar";
import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import IconButton from "@mui/material/IconButton";
import CloseIcon from "@mui/icons-material/Close";
import { ThemeProvider } from "@mui/material/styles";
import { Auth, DevMode } from "./api.js";
import { sessionEnded } from "./data/signals.js";
import { earlyListReads } from "./data/listQuery.js";
import useWho, { NOBODY, whoOf } from "./data/useWho.js";
import { makeTheme } from "./theme.js";
import { SessionContext } from "./session.js";
import { hasUnsavedWork, navigate, route, useLocation } from "./router.js";
import { pageTitle } from "./format.js";
import S from "./strings.js";
import TopBar from "./components/TopBar.jsx";
import DevModeBanner from "./components/DevModeBanner.jsx";
import OfflineBanner from "./components/OfflineBanner.jsx";
import ReauthDialog from "./components/ReauthDialog.jsx";
import CommandPalette from "./components/CommandPalette.jsx";
import PasswordPrompt from "./components/PasswordPrompt.jsx";
import SignIn from "./pages/SignIn.jsx";

// The pages load on first use, each in its own chunk: the sign-in page needs neither the
// grid (list) nor the code editor (editor), the bulk of the bundle.
const listChunk = () => import("./pages/AssemblyList.jsx");
const AssemblyList = lazy(listChunk);
// A browser holding a session (its CSRF cookie is readable) that opens the list fetches
// the list's chunk, its first rows and its counts while the session check runs, not after
// it; a signed-out first visit still loads the sign-in page alone.
if (route(window.location.pathname).page === "list" && document.cookie.includes("ae_csrf=")) {
  listChunk();
  earlyListReads();
}
const AssemblyEditor = lazy(() => import("./pages/AssemblyEditor.jsx"));
const TokensPage = lazy(() => import("./pages/Tokens.jsx"));
const AccountPage = lazy(() => import("./pages/Account.jsx"));

const THEME_KEY = "ae-theme";

function initialMode() {
  const saved = window.localStorage.getItem(THEME_KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

// Dev Mode as the engine reports it, plus a local deadline for the countdown.
function withDeadline(state) {
  if (!state) return { enabled: false };
  const remaining = Number(state.remaining_seconds ?? 0);
  const receivedAt = Date.now();
  return { ...state, receivedAt, deadline: state.enabled ? receivedAt + remaining * 1000 : null };
}

function Loading() {
  return (
    <Box sx={{ display: "grid", placeItems: "center", flex: 1, minHeight: "50vh" }}>
      <CircularProgress />
    </Box>
  );
}

export default function App() {
  const [mode, setMode] = useState(initialMode);
  const theme = useMemo(() => makeTheme(mode), [mode]);
  // "reauth": the session ended while a page held unsaved work; it stays mounted under a
  // sign-in dialog. signIns counts sign-ins, so a page can go on after one (a pending save).
  const [status, setStatus] = useState("loading");
  const [signIns, setSignIns] = useState(0);
  const [user, setUser] = useState(null);
  const [devMode, setDevModeState] = useState({ enabled: false });
  // Asked again whenever the answer may change: a sign-in, Dev Mode switched or expired.
  const whoKey = user ? `${user.username}:${signIns}:${devMode.enabled}:${devMode.expires_at ?? ""}` : null;
  const [who, setWho, refreshWho] = useWho(NOBODY, whoKey);
  // Why the last session ended without a sign-out (shown on the sign-in page), or null.
  const [ended, setEnded] = useState(null);
  // The last message stays mounted while the snackbar closes (its transition needs a child).
  const [notice, setNoticeState] = useState({ open: false, text: "", severity: "success" });
  const setNotice = useCallback((value) => {
    if (value) setNoticeState({ open: true, severity: "success", ...value });
    else setNoticeState((current) => ({ ...current, open: false }));
  }, []);
  const path = useLocation();

  const toggleMode = useCallback(() => {
    setMode((current) => {
      const next = current === "dark" ? "light" : "dark";
      window.localStorage.setItem(THEME_KEY, next);
      return next;
    });
  }, []);

  const setDevMode = useCallback((state) => setDevModeState(withDeadline(state)), []);

  useEffect(() => {
    let cancelled = false;
    // /api/auth/session answers 200 either way, so a signed-out load logs no error.
    Auth.session()
      .then((current) => {
        if (cancelled) return;
        if (!current.signed_in) {
          setEnded(current.ended || null);
          setStatus("signedOut");
          return;
        }
        setUser({ ...current.user, sso: Boolean(current.sso) });
        setWho(whoOf(current));
        setDevMode(current.dev_mode);
        setStatus("signedIn");
      })
      .catch(() => !cancelled && setStatus("signedOut"));
    return () => {
      cancelled = true;
    };
  }, [setDevMode, setWho]);

  useEffect(
    () =>
      // A request was refused with 401: ask the engine why, to tell the user. Unsaved work
      // keeps its page: the sign-in comes as a dialog over it.
      sessionEnded.subscribe(async () => {
        let reason = "revoked";
        try {
          reason = (await Auth.session()).ended || reason;
        } catch {
          // keep the generic reason
        }
        setEnded(reason);
        setDevModeState({ enabled: false });
        setWho(NOBODY);
        if (hasUnsavedWork()) {
          setStatus((current) => (current === "signedOut" ? current : "reauth"));
          return;
        }
        setUser(null);
        setStatus("signedOut");
      }),
    [],
  );

  const refreshDevMode = useCallback(async () => {
    try {
      setDevMode(await DevMode.state());
    } catch {
      // a 401 is reported by api.js (sessionEnded); anything else: the next read tries again
    }
  }, [setDevMode]);

  // Dev Mode can end on the server (expiry); re-read it now and then while it is on.
  useEffect(() => {
    if (!devMode.enabled) return undefined;
    const timer = window.setInterval(refreshDevMode, 30000);
    return () => window.clearInterval(timer);
  }, [devMode.enabled, refreshDevMode]);

  const signedIn = useCallback(
    (result) => {
      setUser(result.user);
      setEnded(null);
      setStatus("signedIn");
      setSignIns((count) => count + 1);
      refreshDevMode();
    },
    [refreshDevMode],
  );

  const signOut = useCallback(async () => {
    try {
      await Auth.logout();
    } catch {
      // the session may already be gone; signing out locally is what matters
    }
    setUser(null);
    setDevModeState({ enabled: false });
    setEnded(null);
    setStatus("signedOut");
    navigate("/", { force: true });
  }, []);

  const session = useMemo(
    () => ({ user, devMode, setDevMode, refreshDevMode, signOut, notify: setNotice, signIns, ...who, refreshWho }),
    [user, devMode, setDevMode, refreshDevMode, signOut, setNotice, signIns, who, refreshWho],
  );

  useEffect(() => {
    if (status === "signedOut") document.title = pageTitle(S.signIn.title);
  }, [status]);

  const current = route(path);
  let page;
  if (current.page === "new") page = <AssemblyEditor key={`new-${current.kind}`} kind={current.kind} />;
  else if (current.page === "edit") page = <AssemblyEditor key={current.guid} guid={current.guid} />;
  else if (current.page === "tokens") page = <TokensPage />;
  else if (current.page === "account") page = <AccountPage />;
  else page = <AssemblyList />;

  return (
    <ThemeProvider theme={theme}>
      <CssBaseline />
      {status === "loading" && <Loading />}
      {status === "signedOut" && <SignIn onSignedIn={signedIn} mode={mode} onToggleMode={toggleMode} ended={ended} />}
      {(status === "signedIn" || status === "reauth") && (
        <SessionContext.Provider value={session}>
          <CommandPalette />
          <ReauthDialog open={status === "reauth"} username={user?.username} ended={ended} onSignedIn={signedIn} />
          <Box sx={{ minHeight: "100vh", display: "flex", flexDirection: "column" }}>
            <TopBar mode={mode} onToggleMode={toggleMode} />
            <OfflineBanner />
            <DevModeBanner />
            {current.page !== "account" && <PasswordPrompt />}
            <Box component="main" sx={{ flex: 1, p: { xs: 1.5, md: 3 }, display: "flex", flexDirection: "column" }}>
              <Suspense fallback={<Loading />}>{page}</Suspense>
            </Box>
          </Box>
          <Snackbar
            open={notice.open}
            autoHideDuration={notice.action ? 10000 : 5000}
            onClose={() => setNotice(null)}
            anchorOrigin={{ vertical: "bottom", horizontal: "center" }}
          >
            <Alert severity={notice.severity} onClose={() => setNotice(null)} variant="filled" data-testid="notice"
              action={notice.action ? (
                <>
                  <Button color="inherit" size="small" data-testid="notice-action"
                    onClick={() => { setNotice(null); notice.action.run(); }}>
                    {notice.action.label}
                  </Button>
                  <IconButton color="inherit" size="small" aria-label={S.history.close} onClick={() => setNotice(null)}><CloseIcon fontSize="small" /></IconButton>
                </>
              ) : undefined}>
              {notice.text}
            </Alert>
          </Snackbar>
        </SessionContext.Provider>
      )}
    </ThemeProvider>
  );
}
