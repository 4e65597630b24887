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
  // The exception to bundling the SDK: the clients only outbound actions use (Connect alone is
  // ~280 KB of schemas for one call), which would otherwise be parsed at every cold start of every
  // Lambda that can run actions. They are required on the first send only, from the SDK the Lambda
  // runtime provides; the adapters use one long-stable command each. SSM likewise (GetParameter,
  // ~180 KB in the billing bundle): read once, on a rare path (lambdas/adapters/ssm/parameter.ts).
  external: [
    '@aws-sdk/client-connect',
    '@aws-sdk/client-sesv2',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-ssm',
  ],
} as const;
