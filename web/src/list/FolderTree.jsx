// Categories as a folder tree beside the grid: counts per folder (with everything below
// it), a click filters the list, and rows dragged from the grid drop onto a folder to
// move there (onMove). Folders open on a click of their arrow; the chosen one's parents
// are open.
import { useEffect, useMemo, useState } from "react";
import Box from "@mui/material/Box";
import List from "@mui/material/List";
import ListItemButton from "@mui/material/ListItemButton";
import ListItemIcon from "@mui/material/ListItemIcon";
import ListItemText from "@mui/material/ListItemText";
import IconButton from "@mui/material/IconButton";
import FolderOutlinedIcon from "@mui/icons-material/FolderOutlined";
import FolderOpenIcon from "@mui/icons-material/FolderOpen";
import ExpandMoreIcon from "@mui/icons-material/ExpandMore";
import ChevronRightIcon from "@mui/icons-material/ChevronRight";
import S from "../strings.js";
import { formatCount } from "../format.js";
import { ancestors, folderTree } from "./folderTree.js";
import { ASSEMBLY_DRAG_TYPE } from "./dragAssembly.js";

// Where a dragged row may land: highlights while over it, calls onMove(row, path) on drop.
function useDropTarget(path, onMove) {
  const [over, setOver] = useState(false);
  if (!onMove) return { over: false, handlers: {} };
  const accepts = (event) => event.dataTransfer.types.includes(ASSEMBLY_DRAG_TYPE);
  return {
    over,
    handlers: {
      onDragOver: (event) => {
        if (!accepts(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        setOver(true);
      },
      onDragLeave: () => setOver(false),
      onDrop: (event) => {
        setOver(false);
        if (!accepts(event)) return;
        event.preventDefault();
        onMove(JSON.parse(event.dataTransfer.getData(ASSEMBLY_DRAG_TYPE)), path);
      },
    },
  };
}

function FolderRow({ label, path, count, depth, selected, open, hasChildren, onToggle, onSelect, onMove, testId }) {
  const drop = useDropTarget(path, onMove);
  return (
    <ListItemButton
      dense
      selected={selected}
      onClick={onSelect}
      {...drop.handlers}
      data-testid={testId}
      data-path={path}
      data-count={count}
      aria-current={selected ? "true" : undefined}
      title={onMove ? S.organise.dropHere(path) : undefined}
      sx={{
        pl: 0.5 + depth * 1.5,
        pr: 1,
        borderRadius: 1,
        minHeight: 32,
        outline: drop.over ? "2px dashed" : "none",
        outlineColor: "primary.main",
        outlineOffset: -2,
      }}
    >
      <Box sx={{ width: 24, flexShrink: 0, display: "flex", justifyContent: "center" }}>
        {hasChildren && (
          <IconButton
            size="small"
            sx={{ p: 0 }}
            aria-label={open ? S.organise.collapse(label) : S.organise.expand(label)}
            aria-expanded={open}
            data-testid="folder-toggle"
            onClick={(event) => {
              event.stopPropagation();
              onToggle();
            }}
          >
            {open ? <ExpandMoreIcon fontSize="small" /> : <ChevronRightIcon fontSize="small" />}
          </IconButton>
        )}
      </Box>
      <ListItemIcon sx={{ minWidth: 26 }}>
        {selected ? <FolderOpenIcon fontSize="small" color="primary" /> : <FolderOutlinedIcon fontSize="small" />}
      </ListItemIcon>
      <ListItemText primary={label} slotProps={{ primary: { noWrap: true, variant: "body2", title: label } }} sx={{ my: 0, minWidth: 0 }} />
      <Box component="span" sx={{ ml: 1, color: "text.secondary", fontSize: 12, fontVariantNumeric: "tabular-nums" }} data-testid="folder-count">
        {formatCount(count)}
      </Box>
    </ListItemButton>
  );
}

// categoryCounts: the facets' category counts; folder / category: the list's filters.
export default function FolderTree({ categoryCounts, folder, category, onFolder, onUncategorised, onMove }) {
  const tree = useMemo(() => folderTree(categoryCounts), [categoryCounts]);
  const [open, setOpen] = useState(() => new Set(ancestors(folder)));
  useEffect(() => {
    setOpen((now) => new Set([...now, ...ancestors(folder).slice(0, -1)]));
  }, [folder]);
  const toggle = (path) => setOpen((now) => {
    const next = new Set(now);
    if (next.has(path)) next.delete(path);
    else next.add(path);
    return next;
  });

  const rows = [];
  const walk = (nodes, depth) => {
    for (const node of nodes) {
      const isOpen = open.has(node.path);
      rows.push(
        <FolderRow key={node.path} label={node.name} path={node.path} count={node.count} depth={depth}
          selected={folder === node.path} open={isOpen} hasChildren={node.children.length > 0}
          onToggle={() => toggle(node.path)} onSelect={() => onFolder(folder === node.path ? null : node.path)}
          onMove={onMove} testId="folder" />,
      );
      if (isOpen) walk(node.children, depth + 1);
    }
  };
  walk(tree.folders, 1);

  return (
    <List dense disablePadding aria-label={S.organise.folders} data-testid="folder-tree" sx={{ flex: "none" }}>
      <FolderRow label={S.organise.allFolders} path={null} count={tree.total} depth={0}
        selected={!folder && category === null} onSelect={() => onFolder(null)} testId="folder-all" />
      {rows}
      {tree.uncategorised > 0 && (
        <FolderRow label={S.organise.noCategory} path="" count={tree.uncategorised} depth={1}
          selected={category === ""} onSelect={onUncategorised} onMove={onMove} testId="folder-none" />
      )}
    </List>
  );
}
