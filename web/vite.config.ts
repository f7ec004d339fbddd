// The dashboard's build: a static single-page app in web/dist, served by `stagger serve` at `/` (and `/app/*`).
// Run through scripts/build-web.mjs (on `npm ci` and, when stale, on `npm start`).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
});
