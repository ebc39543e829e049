// The workspace build. Deterministic: the same sources give the same dist/ (content-hashed names, no
// timestamps), which tests/test_workspace_build.py checks through dist/build-manifest.json.
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  plugins: [react()],
  base: '/',
  resolve: {
    // @rjsf/core's test helper imports the ajv validator (ajv compiles schemas with new Function, which our
    // CSP forbids): point it at our eval-free validator so ajv never enters the bundle.
    alias: { '@rjsf/validator-ajv8': fileURLToPath(new URL('./src/components/forms/validator.js', import.meta.url)) },
  },
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
