// The list grid's cells: source badge, name link (with the queue pill and signature) and
// the row menu button.
import Stack from "@mui/material/Stack";
import IconButton from "@mui/material/IconButton";
import Typography from "@mui/material/Typography";
import Link from "@mui/material/Link";
import MoreVertIcon from "@mui/icons-material/MoreVert";
import S from "../strings.js";
import { navigate } from "../router.js";
import { formatTime } from "../format.js";
import DomainBadge from "../components/DomainBadge.jsx";
import DirtyPill from "../components/DirtyPill.jsx";
import SignatureBadge from "../components/SignatureBadge.jsx";
import SearchMatch from "../components/SearchMatch.jsx";
import FavouriteStar from "./FavouriteStar.jsx";
import TagChips from "./TagChips.jsx";
import { startAssemblyDrag } from "./dragAssembly.js";

export function SourceCell({ data }) {
  if (!data) return null;
  return (
    <Stack direction="row" spacing={0.75} sx={{ alignItems: "center", height: "100%" }}>
      <DomainBadge domain={data.source} />
    </Stack>
  );
}

// Star, name link and, while its change is queued, the dirty pill, then the tags. The link
// is not a tab stop: the grid's cells are (Tab enters the grid, arrows move, Enter opens).
// On a phone the name takes up to two lines (in full) with its source badge beneath, and no
// star (the row keeps its width for the name beside the bulk checkbox). Beside
// the folder tree the name drags onto a folder (context.draggable).
export function NameCell({ data, context }) {
  if (!data) return <Typography variant="body2" color="text.secondary">{S.list.loading}</Typography>;
  const href = `/assemblies/${data.assembly_guid}`;
  const phone = Boolean(context?.narrow);
  return (
    <SearchMatch match={data.match}>
      <Stack direction="row" spacing={phone ? 0.5 : 0.75} sx={{ alignItems: "center", height: "100%", minWidth: 0 }}>
      {!phone && <FavouriteStar assembly={data} />}
      <Stack direction={phone ? "column" : "row"} spacing={phone ? 0.25 : 1}
        sx={{ alignItems: phone ? "flex-start" : "center", justifyContent: phone ? "center" : "flex-start", height: "100%", minWidth: 0, flex: 1, py: phone ? 0.75 : 0, lineHeight: "normal" }}>
        <Link
          draggable={Boolean(context?.draggable)}
          onDragStart={context?.draggable ? (event) => startAssemblyDrag(event, data) : undefined}
          href={href}
          tabIndex={-1}
          underline="hover"
          noWrap={!phone}
          sx={phone
            ? { fontWeight: 600, minWidth: 0, lineHeight: 1.35, whiteSpace: "normal", overflowWrap: "anywhere", display: "-webkit-box", WebkitLineClamp: 2, WebkitBoxOrient: "vertical", overflow: "hidden" }
            : { fontWeight: 600, minWidth: 0 }}
          data-testid="assembly-name"
          onClick={(event) => {
            event.preventDefault();
            navigate(href);
          }}
        >
          {data.display_name}
        </Link>
        {phone ? (
          <Stack direction="row" spacing={0.75} sx={{ alignItems: "center" }}>
            <DomainBadge domain={data.source} />
            {data.is_dirty && <DirtyPill />}
            <SignatureBadge signature={data.signature} />
            <TagChips tags={data.tags} max={1} onPick={context?.pickTag} />
          </Stack>
        ) : (
          <>
            {data.is_dirty && <DirtyPill />}
            <SignatureBadge signature={data.signature} />
            <TagChips tags={data.tags} onPick={context?.pickTag} />
          </>
        )}
      </Stack>
      </Stack>
    </SearchMatch>
  );
}

export function ActionsCell({ data, context }) {
  if (!data) return null;
  return (
    <IconButton
      size="small"
      tabIndex={-1}
      aria-label={S.list.rowMenu}
      data-testid="row-menu"
      onClick={(event) => context.openMenu(event.currentTarget, data)}
    >
      <MoreVertIcon fontSize="small" />
    </IconButton>
  );
}

export function rowTooltip(data) {
  if (!data) return "";
  return S.list.rowTooltip(data.display_name, formatTime(data.updated_at), data.updated_by);
}
