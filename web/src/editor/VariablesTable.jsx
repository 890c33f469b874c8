import Table from "@mui/material/Table";
import TableHead from "@mui/material/TableHead";
import TableBody from "@mui/material/TableBody";
import TableRow from "@mui/material/TableRow";
import TableCell from "@mui/material/TableCell";
import TextField from "@mui/material/TextField";
import Checkbox from "@mui/material/Checkbox";
import IconButton from "@mui/material/IconButton";
import Button from "@mui/material/Button";
import MenuItem from "@mui/material/MenuItem";
import Typography from "@mui/material/Typography";
import Box from "@mui/material/Box";
import AddIcon from "@mui/icons-material/Add";
import CloseIcon from "@mui/icons-material/Close";
import S from "../strings.js";

const VARIABLE_TYPES = ["string", "number", "boolean", "credential"];
const TEXT_COLUMNS = ["name", "label"];

export function emptyVariable() {
  return { name: "", label: "", type: "string", default: "", required: false, description: "" };
}

// Why each variable row cannot be saved: {rowIndex: sentence}. A name is required and
// names are unique (the engine checks the same and answers 422 naming the row).
export function variableProblems(variables) {
  const problems = {};
  const firstRow = new Map();
  variables.forEach((variable, index) => {
    const name = String(variable.name ?? "").trim();
    if (!name) {
      problems[index] = S.editor.variableNameMissing(index + 1);
    } else if (firstRow.has(name)) {
      problems[index] = S.editor.variableNameTaken(index + 1, name, firstRow.get(name) + 1);
    } else {
      firstRow.set(name, index);
    }
  });
  return problems;
}

function ReadOnlyVariables({ variables }) {
  return (
    <Box sx={{ overflowX: "auto" }}>
      <Table size="small">
        <TableHead>
          <TableRow>
            {Object.entries(S.editor.variableColumns).map(([key, label]) => (
              <TableCell key={key} sx={{ fontWeight: 600, whiteSpace: "nowrap" }}>
                {label}
              </TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {variables.map((variable, index) => (
            <TableRow key={index} data-testid="variable-row">
              {Object.keys(S.editor.variableColumns).map((key) => (
                <TableCell
                  key={key}
                  data-testid={`variable-${key}-text`}
                  sx={
                    ["name", "type", "required"].includes(key)
                      ? { verticalAlign: "top", whiteSpace: "nowrap" }
                      : { verticalAlign: "top", whiteSpace: "pre-wrap", overflowWrap: "anywhere", minWidth: key === "description" ? 220 : 90 }
                  }
                >
                  {key === "required" ? (variable.required ? S.editor.yes : S.editor.no) : String(variable[key] ?? "")}
                </TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </Box>
  );
}

// metadata.variables: one editable row per variable.
export default function VariablesTable({ variables, onChange, readOnly, problems = {} }) {
  const set = (index, key, value) => onChange(variables.map((v, i) => (i === index ? { ...v, [key]: value } : v)));
  const field = (index, key, props = {}) => (
    <TextField
      size="small"
      variant="standard"
      fullWidth
      value={variables[index][key] ?? ""}
      onChange={(e) => set(index, key, e.target.value)}
      disabled={readOnly}
      slotProps={{ htmlInput: { "aria-label": S.editor.variableColumns[key], "data-testid": `variable-${key}` } }}
      {...props}
    />
  );
  const types = (current) => (VARIABLE_TYPES.includes(current) ? VARIABLE_TYPES : [...VARIABLE_TYPES, current]);
  return (
    <Box data-testid="variables-table">
      {variables.length === 0 ? (
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
          {S.editor.noVariables}
        </Typography>
      ) : readOnly ? (
        <ReadOnlyVariables variables={variables} />
      ) : (
        <Box sx={{ overflowX: "auto" }}>
          <Table size="small">
            <TableHead>
              <TableRow>
                {Object.entries(S.editor.variableColumns).map(([key, label]) => (
                  <TableCell key={key} sx={{ fontWeight: 600, whiteSpace: "nowrap" }}>
                    {label}
                  </TableCell>
                ))}
                {!readOnly && <TableCell />}
              </TableRow>
            </TableHead>
            <TableBody>
              {variables.map((variable, index) => (
                <TableRow key={index} data-testid="variable-row" data-invalid={problems[index] ? "true" : undefined}>
                  {TEXT_COLUMNS.map((key) => (
                    <TableCell key={key} sx={{ minWidth: 130, verticalAlign: "top" }}>
                      {key === "name" && problems[index]
                        ? field(index, key, { error: true, helperText: problems[index] })
                        : field(index, key)}
                    </TableCell>
                  ))}
                  <TableCell sx={{ minWidth: 110 }}>
                    {field(index, "type", {
                      select: true,
                      children: types(variable.type).map((t) => (
                        <MenuItem key={t} value={t}>
                          {t}
                        </MenuItem>
                      )),
                    })}
                  </TableCell>
                  <TableCell sx={{ minWidth: 130 }}>{field(index, "default")}</TableCell>
                  <TableCell padding="checkbox" align="center">
                    <Checkbox
                      checked={Boolean(variable.required)}
                      onChange={(e) => set(index, "required", e.target.checked)}
                      disabled={readOnly}
                      slotProps={{ input: { "aria-label": S.editor.variableColumns.required } }}
                    />
                  </TableCell>
                  <TableCell sx={{ minWidth: 200 }}>{field(index, "description")}</TableCell>
                  {!readOnly && (
                    <TableCell padding="checkbox">
                      <IconButton
                        size="small"
                        aria-label={S.editor.removeVariable}
                        onClick={() => onChange(variables.filter((_, i) => i !== index))}
                      >
                        <CloseIcon fontSize="small" />
                      </IconButton>
                    </TableCell>
                  )}
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Box>
      )}
      {!readOnly && (
        <Button size="small" startIcon={<AddIcon />} onClick={() => onChange([...variables, emptyVariable()])} sx={{ mt: 1 }} data-testid="add-variable">
          {S.editor.addVariable}
        </Button>
      )}
    </Box>
  );
}
