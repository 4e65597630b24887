import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The chat widget for businesses' websites: one self-contained script (no framework, no chunks,
 * no CSS file) written beside the console as console/dist/widget.js, which `npm start` serves at
 * /widget.js. Built after the console (whose build empties dist).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  publicDir: false,
  build: {
    outDir: '../dist',
    emptyOutDir: false,
    target: 'es2020',
    copyPublicDir: false,
    lib: {
      entry: fileURLToPath(new URL('./widget.ts', import.meta.url)),
      formats: ['iife'],
      name: 'AgentChatWidget',
      fileName: () => 'widget.js',
    },
  },
});
