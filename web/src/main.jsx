import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import {
  CellStyleModule,
  InfiniteRowModelModule,
  ModuleRegistry,
  PaginationModule,
  TooltipModule,
} from "ag-grid-community";
import App from "./App.jsx";

// Only the AG Grid features the list uses: server-side (infinite) rows, paging, tooltips.
ModuleRegistry.registerModules([InfiniteRowModelModule, PaginationModule, TooltipModule, CellStyleModule]);

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
