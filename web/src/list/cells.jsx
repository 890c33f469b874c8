// The list grid's cells: type, source badge, name link (with the star, the queue pill, the
// script-check mark, the signature and the tags) and the row menu button. Plain elements
// styled by the grid's box (cellStyles.js): a screen of rows is drawn at every page, sort
// and search.
import TerminalIcon from "@mui/icons-material/Terminal";
import DesktopWindowsIcon from "@mui/icons-material/DesktopWindows";
import CodeIcon from "@mui/icons-material/Code";
import DataObjectIcon from "@mui/icons-material/DataObject";
import SettingsSuggestIcon from "@mui/icons-material/SettingsSuggest";
import AccountTreeIcon from "@mui/icons-material/AccountTree";
import StarIcon from "@mui/icons-material/Star";
import StarBorderIcon from "@mui/icons-material/StarBorder";
import MoreVertIcon from "@mui/icons-material/MoreVert";
import ErrorOutlineIcon from "@mui/icons-material/ErrorOutlineOutlined";
import WarningAmberIcon from "@mui/icons-material/WarningAmber";
import S from "../strings.js";
import { navigate } from "../router.js";
import { formatTime } from "../format.js";
import { useSession } from "../session.js";
import { setFavourite, useFavourites } from "../data/favourites.js";
import PlainIcon from "./PlainIcon.jsx";
import { startAssemblyDrag } from "./dragAssembly.js";

const TYPE_ICONS = {
  powershell: TerminalIcon,
  batch: DesktopWindowsIcon,
  bash: CodeIcon,
  python: DataObjectIcon,
  ansible: SettingsSuggestIcon,
  workflow: AccountTreeIcon,
};

export function TypeCell({ data }) {
  if (!data) return null;
  const type = data.assembly_type;
  return (
    <span className="ae-type" data-type={type}>
      <PlainIcon icon={TYPE_ICONS[type] || CodeIcon} />
      <span>{S.types[type] || type || "—"}</span>
    </span>
  );
}

function DomainBadge({ domain }) {
  if (!S.domains[domain]) return null;
  return <span className="ae-chip ae-domain" data-testid="domain-badge" data-domain={domain}>{S.domains[domain]}</span>;
}

export function SourceCell({ data }) {
  if (!data) return null;
  return <div className="ae-row"><DomainBadge domain={data.source} /></div>;
}

// The row's star: the user's favourites, kept by the engine; flips at once, back if refused.
function RowStar({ assembly }) {
  const session = useSession();
  const user = session.user?.username || null;
  const { guids } = useFavourites(user);
  if (!user) return null;
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
    <button type="button" className="ae-icon-button ae-star" tabIndex={-1} aria-label={label} aria-pressed={on} title={label}
      data-testid="favourite-star" data-starred={on ? "true" : "false"} onClick={toggle}>
      <PlainIcon icon={on ? StarIcon : StarBorderIcon} />
    </button>
  );
}

// max: how many tag chips show before a "+n" chip (its title lists the rest).
function Tags({ tags, max, onPick }) {
  if (!tags || tags.length === 0) return null;
  const rest = tags.slice(max);
  return (
    <span className="ae-tags" data-testid="tag-chips">
      {tags.slice(0, max).map((tag) => (
        <button key={tag} type="button" className="ae-chip ae-tag" title={S.organise.tagFilter(tag)} data-testid="tag-chip"
          onClick={onPick ? (event) => { event.stopPropagation(); onPick(tag); } : undefined}>
          {tag}
        </button>
      ))}
      {rest.length > 0 && <span className="ae-chip ae-more" title={rest.join(", ")}>{S.organise.moreTags(rest.length)}</span>}
    </span>
  );
}

// The stored script check's mark (the row's `checks`, Docs/script-checks.md): "2 errors" in
// red, else "1 warning" in amber; nothing for a clean script (notes only) or one not checked.
// Where the name column is narrow (600 to 1679 px wide, cellStyles.js) the mark shows an
// icon and the number instead. The title lists every count.
function CheckMark({ checks }) {
  const counts = checks?.counts;
  if (!counts || (!counts.error && !counts.warning)) return null;
  const n = counts.error || counts.warning;
  return (
    <span className="ae-chip ae-check" data-severity={counts.error ? "error" : "warning"} title={S.checks.rowMark(counts)} data-testid="check-mark">
      <PlainIcon icon={counts.error ? ErrorOutlineIcon : WarningAmberIcon} />
      {n}
      <span className="ae-check-word">{` ${counts.error ? S.checks.errorWord(n) : S.checks.warningWord(n)}`}</span>
    </span>
  );
}

function Badges({ data, phone, onPick }) {
  return (
    <>
      {phone && <DomainBadge domain={data.source} />}
      {data.is_dirty && <span className="ae-chip ae-dirty" title={S.dirtyPillHelp} data-testid="dirty-pill">{S.dirtyPill}</span>}
      <CheckMark checks={data.checks} />
      {data.signature && (
        <span className="ae-chip ae-signature" title={S.signature.help[data.signature] ?? ""} data-testid="signature-badge" data-signature={data.signature}>
          {S.signature.label[data.signature] ?? data.signature}
        </span>
      )}
      <Tags tags={data.tags} max={phone ? 1 : 2} onPick={onPick} />
    </>
  );
}

// Star, name link and, while its change is queued, the dirty pill, then the tags. The link
// is not a tab stop: the grid's cells are (Tab enters the grid, arrows move, Enter opens).
// On a phone the name takes up to two lines (in full) with its source badge beneath, and no
// star (the row keeps its width for the name beside the bulk checkbox). Beside the folder
// tree the name drags onto a folder (context.draggable). A hit found only inside the script
// shows the matching line under the name (the item's `match`, Docs/search.md).
export function NameCell({ data, context }) {
  if (!data) return <span className="ae-loading">{S.list.loading}</span>;
  const href = `/assemblies/${data.assembly_guid}`;
  const phone = Boolean(context?.narrow);
  const draggable = Boolean(context?.draggable);
  const row = (
    <div className="ae-row">
      {!phone && <RowStar assembly={data} />}
      <div className={phone ? "ae-name-line ae-phone" : "ae-name-line"}>
        <a className="ae-name" href={href} tabIndex={-1} draggable={draggable} data-testid="assembly-name"
          onDragStart={draggable ? (event) => startAssemblyDrag(event, data) : undefined}
          onClick={(event) => {
            event.preventDefault();
            navigate(href);
          }}>
          {data.display_name}
        </a>
        {phone ? <span className="ae-badges"><Badges data={data} phone onPick={context?.pickTag} /></span> : <Badges data={data} onPick={context?.pickTag} />}
      </div>
    </div>
  );
  if (!data.match) return row;
  return (
    <div className="ae-match">
      {row}
      <div className="ae-match-line" title={S.list.matchLine(data.match.line, data.match.text)} data-testid="search-match">
        <span className="ae-match-number">{S.list.matchLineNumber(data.match.line)}</span>
        {data.match.text}
      </div>
    </div>
  );
}

export function ActionsCell({ data, context }) {
  if (!data) return null;
  return (
    <button type="button" className="ae-icon-button" tabIndex={-1} aria-label={S.list.rowMenu} data-testid="row-menu"
      onClick={(event) => context.openMenu(event.currentTarget, data)}>
      <PlainIcon icon={MoreVertIcon} />
    </button>
  );
}

export function rowTooltip(data) {
  if (!data) return "";
  return S.list.rowTooltip(data.display_name, formatTime(data.updated_at), data.updated_by);
}
