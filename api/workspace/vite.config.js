// The workspace build. Deterministic: the same sources give the same dist/ (content-hashed names, no
// timestamps), which tests/test_workspace_build.py checks through dist/build-manifest.json.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Inlined assets would be data: URLs in the bundle; files are simpler to audit and cache.
    assetsInlineLimit: 0,
    // A separate chunk for the diagram library: the task pages do not pay for bpmn-js.
    chunkSizeWarningLimit: 2000,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8000' },
  },
})
