import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Every text file of the build also as .br and .gz next to it, made once at build time:
// the engine sends the precompressed bytes to browsers that accept them (never
// compressing per request).
function precompress() {
  return {
    name: "ae-precompress",
    apply: "build",
    writeBundle(options, bundle) {
      for (const fileName of Object.keys(bundle)) {
        if (!/\.(js|css|html|svg|json)$/.test(fileName)) continue;
        const path = join(options.dir, fileName);
        const data = readFileSync(path);
        if (data.length < 1024) continue; // not worth a round of decoding
        writeFileSync(`${path}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

// The engine serves dist/ at "/" and answers /api itself; `npm run dev` proxies /api to a
// locally running engine (ENGINE_URL, default http://127.0.0.1:8000).
export default defineConfig({
  plugins: [react(), precompress()],
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
