// AG Grid's theme following the app's (light/dark, font, focus ring).
import { useMemo } from "react";
import { colorSchemeDark, colorSchemeLight, themeQuartz } from "ag-grid-community";

export function useGridTheme(theme) {
  return useMemo(
    () =>
      themeQuartz.withPart(theme.palette.mode === "dark" ? colorSchemeDark : colorSchemeLight).withParams({
        fontFamily: theme.typography.fontFamily,
        backgroundColor: theme.palette.background.paper,
        headerFontWeight: 600,
        fontSize: 14,
        focusShadow: { radius: 0, spread: 2, color: theme.palette.primary.main },
        rangeSelectionBorderColor: theme.palette.primary.main,
      }),
    [theme],
  );
}
