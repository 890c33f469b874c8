import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The engine serves dist/ at "/" and answers /api itself; `npm run dev` proxies /api to a
// locally running engine (ENGINE_URL, default http://127.0.0.1:8000).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 1000, // kB; the grid and the code editor are the big chunks
  },
  server: {
    proxy: {
      "/api": process.env.ENGINE_URL || "http://127.0.0.1:8000",
    },
  },
});
