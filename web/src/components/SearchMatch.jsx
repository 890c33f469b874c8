import Box from "@mui/material/Box";
import Typography from "@mui/material/Typography";
import S from "../strings.js";

// The name cell of a search hit found only inside the script: the matching line under
// the name, so the grid shows why the row is there (the list item's `match`, Docs/search.md).
export default function SearchMatch({ match, children }) {
  if (!match) return children;
  return (
    <Box sx={{ display: "flex", flexDirection: "column", justifyContent: "center", height: "100%", minWidth: 0 }}>
      <Box sx={{ display: "flex", alignItems: "center", height: 22, minWidth: 0 }}>{children}</Box>
      <Typography
        component="div"
        noWrap
        title={S.list.matchLine(match.line, match.text)}
        data-testid="search-match"
        sx={{ fontFamily: "monospace", fontSize: 11, lineHeight: "14px", color: "text.secondary", minWidth: 0 }}
      >
        <Box component="span" sx={{ opacity: 0.7, mr: 0.75 }}>
          {S.list.matchLineNumber(match.line)}
        </Box>
        {match.text}
      </Typography>
    </Box>
  );
}
