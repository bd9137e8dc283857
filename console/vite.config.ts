import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Served under /console/ by the console function (and the local runner).
// Vite's dev server proxies the API to a running `make dev`.
const helpdesk = process.env.HELPDESK_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: {
    outDir: "dist",
    sourcemap: false,
    // No inline module preload polyfill: the CSP allows no inline script.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": helpdesk,
      "/_local": helpdesk,
      "/console/config.json": helpdesk,
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
