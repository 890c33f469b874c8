// Where the folder tree and tag filter are not shown (under 1200 px: panel false), the
// folder, tag or Favourites view the address chose stays visible as a chip that clears it.
// The script-check filter shows its chip at every width: it hides rows whatever else is
// chosen, and the chip clears it in one click.
import { memo } from "react";
import Chip from "@mui/material/Chip";
import Stack from "@mui/material/Stack";
import FolderOutlinedIcon from "@mui/icons-material/FolderOutlined";
import LocalOfferOutlinedIcon from "@mui/icons-material/LocalOfferOutlined";
import StarIcon from "@mui/icons-material/Star";
import RuleIcon from "@mui/icons-material/Rule";
import S from "../strings.js";

function ActiveFilters({ list, panel }) {
  const folder = panel ? null : list.folder;
  const tag = panel ? null : list.tag;
  const favourites = panel ? false : list.favourites;
  const checks = list.favourites ? null : list.checks; // not applied to the Favourites view
  if (!folder && !tag && !favourites && !checks) return null;
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
      {checks && (
        <Chip size="small" icon={<RuleIcon />} label={S.checks.activeFilter(S.checks.filters[checks])} onDelete={() => list.setChecks(null)} data-testid="active-checks" />
      )}
    </Stack>
  );
}

// Memoised: the list page re-renders often (counts arriving, selections); this only when its props change.
export default memo(ActiveFilters);
