/**
 * How every Lambda entry is bundled. The house Lambda construct passes these to esbuild via
 * NodejsFunction, and `npm run bench` bundles with the very same settings, so the sizes and
 * cold-import times it prints are those of what is deployed.
 */
export const LAMBDA_NODE_TARGET = 'node22';

export const LAMBDA_ESBUILD_OPTIONS = {
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  target: LAMBDA_NODE_TARGET,
  // Powertools and the SDK ship ESM entry points that tree-shake better than their CJS ones.
  mainFields: ['module', 'main'],
  sourcemap: false,
  legalComments: 'none',
  // Deployed functions always use Cognito, and never the offline stand-ins (scripted model,
  // hashing embedder): these constants let esbuild drop the local-only code from every bundle.
  define: { 'process.env.IDENTITY_PROVIDER': '"cognito"', 'process.env.PLATFORM_BUILD': '"lambda"' },
} as const;
