import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The console: a static single-page app. `npm run build:console` writes console/dist, which
 * `npm start` serves at `/` (local/http-server.ts) and the CDK deploys to S3 behind CloudFront.
 * JSX goes through esbuild with Preact's runtime (tsconfig's jsxImportSource): no plugin needed.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Assets are few and small: inline nothing, so the CSP needs no data: URLs.
    assetsInlineLimit: 0,
  },
  server: {
    // `npx vite console` during development: the API is the local platform.
    proxy: { '/v1': 'http://127.0.0.1:3000' },
  },
});
