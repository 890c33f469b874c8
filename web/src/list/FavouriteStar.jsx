// The star of one assembly (a list row, the editor): the user's favourites, kept by the engine.
import IconButton from "@mui/material/IconButton";
import StarIcon from "@mui/icons-material/Star";
import StarBorderIcon from "@mui/icons-material/StarBorder";
import S from "../strings.js";
import { useSession } from "../session.js";
import { setFavourite, useFavourites } from "../data/favourites.js";

export default function FavouriteStar({ assembly, size = "small", tabbable = false }) {
  const session = useSession();
  const user = session.user?.username || null;
  const { guids } = useFavourites(user);
  if (!assembly || !user) return null;
  const on = guids.has(assembly.assembly_guid);
  const label = on ? S.organise.unstar(assembly.display_name) : S.organise.star(assembly.display_name);
  const toggle = async (event) => {
    event.stopPropagation();
    try {
      await setFavourite(user, assembly, !on);
    } catch (error) {
      session.notify({ text: S.organise.starFailed(error.message), severity: "error" });
    }
  };
  return (
    <IconButton
      size={size}
      tabIndex={tabbable ? 0 : -1}
      aria-label={label}
      aria-pressed={on}
      title={label}
      data-testid="favourite-star"
      data-starred={on ? "true" : "false"}
      onClick={toggle}
      sx={{ color: on ? "warning.main" : "text.secondary", p: size === "small" ? 0.25 : undefined }}
    >
      {on ? <StarIcon fontSize={size} /> : <StarBorderIcon fontSize={size} />}
    </IconButton>
  );
}
