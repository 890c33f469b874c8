// The bulk toolbar's questions: a category, tags to add or remove, a domain to clone into,
// and the delete confirmation. Each answers through onSubmit; the toolbar sends the request.
import { useEffect, useState } from "react";
import DialogContentText from "@mui/material/DialogContentText";
import TextField from "@mui/material/TextField";
import MenuItem from "@mui/material/MenuItem";
import ToggleButton from "@mui/material/ToggleButton";
import ToggleButtonGroup from "@mui/material/ToggleButtonGroup";
import S from "../strings.js";
import { useSession, writableDomains } from "../session.js";
import { ActionDialog } from "../components/Dialogs.jsx";

export function BulkCategoryDialog({ count, open, onClose, onSubmit }) {
  const [category, setCategory] = useState("");
  useEffect(() => { if (open) setCategory(""); }, [open]);
  return (
    <ActionDialog open={open} title={S.bulk.categoryTitle(count)} onClose={onClose} testId="bulk-category-dialog"
      onSubmit={() => onSubmit({ category: category.trim() })} submitLabel={S.bulk.categorySubmit}>
      <TextField label={S.bulk.categoryLabel} value={category} onChange={(e) => setCategory(e.target.value)}
        fullWidth autoFocus margin="dense" slotProps={{ htmlInput: { "data-testid": "bulk-category", maxLength: 200 } }} />
    </ActionDialog>
  );
}

// Tags typed as "a, b, c": blanks and repeats dropped.
function tagList(text) {
  return [...new Set(text.split(",").map((t) => t.trim()).filter(Boolean))];
}

export function BulkTagsDialog({ count, open, onClose, onSubmit }) {
  const [text, setText] = useState("");
  const [mode, setMode] = useState("add_tags");
  useEffect(() => { if (open) { setText(""); setMode("add_tags"); } }, [open]);
  const tags = tagList(text);
  return (
    <ActionDialog open={open} title={S.bulk.tagsTitle(count)} onClose={onClose} testId="bulk-tags-dialog"
      onSubmit={() => onSubmit(mode, { tags })} canSubmit={tags.length > 0}
      submitLabel={mode === "add_tags" ? S.bulk.tagsAdd : S.bulk.tagsRemove}>
      <ToggleButtonGroup exclusive size="small" value={mode} onChange={(_, value) => value && setMode(value)}
        aria-label={S.bulk.tagsMode} sx={{ mb: 1 }}>
        <ToggleButton value="add_tags" data-testid="bulk-tags-add">{S.bulk.tagsAddMode}</ToggleButton>
        <ToggleButton value="remove_tags" data-testid="bulk-tags-remove">{S.bulk.tagsRemoveMode}</ToggleButton>
      </ToggleButtonGroup>
      <TextField label={S.bulk.tagsLabel} value={text} onChange={(e) => setText(e.target.value)}
        fullWidth autoFocus margin="dense" slotProps={{ htmlInput: { "data-testid": "bulk-tags" } }} />
    </ActionDialog>
  );
}

export function BulkCloneDialog({ count, open, onClose, onSubmit }) {
  const session = useSession();
  const domains = writableDomains(session);
  const [target, setTarget] = useState("user");
  useEffect(() => { if (open) setTarget("user"); }, [open]);
  return (
    <ActionDialog open={open} title={S.bulk.cloneTitle(count)} onClose={onClose} testId="bulk-clone-dialog"
      onSubmit={() => onSubmit({ target_domain: target })} submitLabel={S.bulk.cloneSubmit}>
      <DialogContentText sx={{ mb: 2 }}>{S.bulk.cloneText}</DialogContentText>
      <TextField select label={S.dialogs.cloneTarget} value={target} onChange={(e) => setTarget(e.target.value)}
        fullWidth margin="dense" slotProps={{ select: { SelectDisplayProps: { "data-testid": "bulk-clone-target" } } }}>
        {domains.map((domain) => (
          <MenuItem key={domain} value={domain} data-testid={`bulk-clone-target-${domain}`}>{S.domains[domain]}</MenuItem>
        ))}
      </TextField>
    </ActionDialog>
  );
}

export function BulkDeleteDialog({ count, open, onClose, onSubmit }) {
  return (
    <ActionDialog open={open} title={S.bulk.deleteTitle(count)} onClose={onClose} testId="bulk-delete-dialog"
      onSubmit={() => onSubmit({})} submitLabel={S.bulk.deleteSubmit} submitColor="error">
      <DialogContentText>{S.bulk.deleteText}</DialogContentText>
    </ActionDialog>
  );
}
