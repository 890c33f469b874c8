import Alert from "@mui/material/Alert";
import Button from "@mui/material/Button";
import Typography from "@mui/material/Typography";
import S from "../strings.js";
import { navigate } from "../router.js";

// An official assembly the vendor deprecated (its trusted manifest says so; the API's
// `vendor`, Docs/official-library.md): the vendor's note and, when the vendor named one,
// the way to the assembly that replaces it.
export default function VendorDeprecation({ record }) {
  const vendor = record?.vendor;
  if (vendor?.status !== "deprecated") return null;
  const successor = vendor.replaced_by;
  return (
    <Alert
      severity="warning"
      data-testid="vendor-deprecated"
      action={
        successor && (
          <Button color="inherit" size="small" onClick={() => navigate(`/assemblies/${successor}`)} data-testid="vendor-replaced-by" sx={{ whiteSpace: "nowrap" }}>
            {S.vendor.openReplacement}
          </Button>
        )
      }
    >
      <Typography variant="body2">{S.vendor.deprecated(vendor.note)}</Typography>
    </Alert>
  );
}
