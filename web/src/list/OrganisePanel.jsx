// Beside the grid: the Favourites view, the folder tree and the tag filter. Rows dragged
// from the grid drop onto a folder (onMove).
import { memo } from "react";
import Box from "@mui/material/Box";
import Divider from "@mui/material/Divider";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import Typography from "@mui/material/Typography";
import StarIcon from "@mui/icons-material/Star";
import S from "../strings.js";
import FolderTree from "./FolderTree.jsx";
import TagFilter from "./TagFilter.jsx";

function OrganisePanel({ list, facets, favouriteCount, onMove, width }) {
  return (
    <Box
      component="nav"
      aria-label={S.organise.folders}
      data-testid="organise-panel"
      sx={{ width, flexShrink: 0, overflowY: "auto", overflowX: "hidden", pr: 0.5, display: "flex", flexDirection: "column", gap: 1 }}
    >
      <ListItemButton
        dense
        selected={list.favourites}
        aria-pressed={list.favourites}
        title={S.organise.favouritesHelp}
        data-testid="favourites-filter"
        onClick={() => list.setFavourites(!list.favourites)}
        sx={{ borderRadius: 1, minHeight: 32, pl: 1, flex: "none" }}
      >
        <ListItemIcon sx={{ minWidth: 28 }}>
          <StarIcon fontSize="small" sx={{ color: "warning.main" }} />
        </ListItemIcon>
        <ListItemText primary={S.organise.favourites} slotProps={{ primary: { variant: "body2" } }} sx={{ my: 0 }} />
        <Box component="span" sx={{ color: "text.secondary", fontSize: 12 }} data-testid="favourites-count">
          {favouriteCount ?? ""}
        </Box>
      </ListItemButton>
      <Divider />
      <Typography variant="overline" color="text.secondary" component="h2" sx={{ px: 1, lineHeight: 2 }}>
        {S.organise.folders}
      </Typography>
      <FolderTree
        categoryCounts={facets?.category}
        folder={list.folder}
        category={list.category}
        onFolder={list.setFolder}
        onUncategorised={() => list.setCategory(list.category === "" ? null : "")}
        onMove={onMove}
      />
      <Divider />
      <TagFilter tagCounts={facets?.tags} tag={list.tag} onTag={(tag) => { list.setTag(tag); list.setView((v) => ({ ...v, page: 1 })); }} />
    </Box>
  );
}

// Memoised: the list page re-renders often (counts arriving, selections); this only when its props change.
export default memo(OrganisePanel);
