import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The UI lives in ui/ while package.json sits at the repository root (one lockfile for
// the UI, the Tauri CLI and the e2e tests), so the root is pinned to this folder.
const uiRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig(({ mode }) => ({
  root: uiRoot,
  // Relative asset URLs work both from Tauri's custom protocol and from the test server.
  base: './',
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    // The mock build goes to its own folder so it can never be picked up as frontendDist.
    outDir: mode === 'mock' ? 'dist-mock' : 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // WebKitGTK supports modulepreload; the polyfill would only add code.
    modulePreload: { polyfill: false },
  },
}));
