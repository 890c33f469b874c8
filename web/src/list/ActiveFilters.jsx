// Where the folder tree and tag filter are not shown (under 1200 px), the folder, tag or
// Favourites view the address chose stays visible as a chip that clears it.
import { memo } from "react";
import Chip from "@mui/material/Chip";
import Stack from "@mui/material/Stack";
import FolderOutlinedIcon from "@mui/icons-material/FolderOutlined";
import LocalOfferOutlinedIcon from "@mui/icons-material/LocalOfferOutlined";
import StarIcon from "@mui/icons-material/Star";
import S from "../strings.js";

function ActiveFilters({ list }) {
  const { folder, tag, favourites } = list;
  if (!folder && !tag && !favourites) return null;
  return (
    <Stack direction="row" sx={{ flexWrap: "wrap", gap: 1 }} data-testid="active-filters">
      {favourites && (
        <Chip size="small" icon={<StarIcon />} label={S.organise.favourites} onDelete={() => list.setFavourites(false)} data-testid="active-favourites" />
      )}
      {folder && (
        <Chip size="small" icon={<FolderOutlinedIcon />} label={folder} onDelete={() => list.setFolder(null)} data-testid="active-folder" />
      )}
      {tag && (
        <Chip size="small" icon={<LocalOfferOutlinedIcon />} label={tag} onDelete={() => list.setTag(null)} data-testid="active-tag" />
      )}
    </Stack>
  );
}

// Memoised: the list page re-renders often (counts arriving, selections); this only when its props change.
export default memo(ActiveFilters);
