// An MUI icon drawn as a bare <svg> around the icon's own path, without the styled SvgIcon
// (a styled component per icon; the grid draws three per row). An icon built some other way
// is drawn by MUI as usual.
const paths = new Map();

function pathOf(Icon) {
  if (!paths.has(Icon)) {
    let path = null;
    try {
      // createSvgIcon: memo(forwardRef(render)); render returns <SvgIcon>{path}</SvgIcon>.
      path = Icon?.type?.render?.({}, null)?.props?.children ?? null;
    } catch {
      path = null;
    }
    paths.set(Icon, path);
  }
  return paths.get(Icon);
}

export default function PlainIcon({ icon: Icon }) {
  const path = pathOf(Icon);
  if (!path) return <Icon fontSize="small" />;
  return (
    <svg className="ae-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      {path}
    </svg>
  );
}
