// Build of the page served by `leonet serve` at `/`. The output goes into the Python package
// (src/leonet/server/static/, committed) so that `pip install leonet` serves it with no node at run time.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: fileURLToPath(new URL("../src/leonet/server/static/", import.meta.url)),
    emptyOutDir: true,
    // a stable build: no inline data: URLs, no source maps, one bundle
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
  },
  server: {
    // `npm run dev` next to `leonet serve --port 8000` (or web/dev/stub_server.py): the API is proxied
    fs: { allow: [".."] },
    proxy: { "/api": "http://127.0.0.1:8000", "/healthz": "http://127.0.0.1:8000" },
  },
});
