import { createTheme } from "@mui/material/styles";

// Each domain has its own colour, readable on light and dark backgrounds.
export const DOMAIN_COLORS = {
  official: { light: "#1565c0", dark: "#64b5f6" },
  community: { light: "#6a1b9a", dark: "#ce93d8" },
  user: { light: "#2e7d32", dark: "#81c784" },
};

export const DIRTY_COLORS = { background: "#fdd835", text: "#3e2f00", border: "#c6a700" };
export const DEV_MODE_COLOR = "#ef6c00";
export const SIGNATURE_COLORS = {
  verified: { text: "#1b5e20", border: "#66bb6a" },
  modified: { text: "#8a4b00", border: "#ffa726" },
  unsigned: { text: "#455a64", border: "#90a4ae" },
};

const SYSTEM_FONTS = [
  "system-ui",
  "-apple-system",
  '"Segoe UI"',
  "Roboto",
  '"Helvetica Neue"',
  "Arial",
  '"Noto Sans"',
  '"Liberation Sans"',
  "sans-serif",
].join(",");

export const MONO_FONTS = 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace';

export function makeTheme(mode) {
  // One clearly visible focus ring for everything reached with the keyboard.
  const ring = { outline: `2px solid ${mode === "dark" ? "#90caf9" : "#1565c0"}`, outlineOffset: 2 };
  return createTheme({
    palette: {
      mode,
      primary: { main: mode === "dark" ? "#90caf9" : "#1565c0" },
      background: mode === "dark" ? { default: "#121417", paper: "#1b1e23" } : { default: "#f4f6f8", paper: "#ffffff" },
    },
    shape: { borderRadius: 6 },
    typography: { fontFamily: SYSTEM_FONTS, fontSize: 14 },
    components: {
      MuiCssBaseline: { styleOverrides: { "a:focus-visible": ring } },
      MuiButtonBase: { styleOverrides: { root: { "&.Mui-focusVisible": ring } } },
      MuiButton: { defaultProps: { disableElevation: true }, styleOverrides: { root: { textTransform: "none" } } },
      MuiToggleButton: { styleOverrides: { root: { textTransform: "none", paddingTop: 4, paddingBottom: 4 } } },
      MuiChip: { styleOverrides: { root: { fontWeight: 500 } } },
    },
  });
}
