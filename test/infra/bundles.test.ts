import { build } from 'esbuild';
import { HTTP_LAMBDAS } from '../../lambdas/http/route-table';
import { LAMBDA_ESBUILD_OPTIONS } from '../../lib/bundling';
import { EXECUTION_WORKER_ENTRY } from '../../lib/constructs/execution-queue';

/** Every deployed Lambda entry: the HTTP ones and the execution worker. */
const ENTRIES: [string, { entry: string }][] = [
  ...Object.entries(HTTP_LAMBDAS),
  ['execution-worker', { entry: EXECUTION_WORKER_ENTRY }],
];

/** What the deployed bundles must not carry: the local identity issuer exists for local mode only. */
describe('Lambda bundles', () => {
  it.each(ENTRIES)('%s leaves the local issuer and its JWT library out', async (_name, lambda) => {
    const result = await build({
      ...LAMBDA_ESBUILD_OPTIONS,
      mainFields: [...LAMBDA_ESBUILD_OPTIONS.mainFields],
      define: { ...LAMBDA_ESBUILD_OPTIONS.define },
      entryPoints: [lambda.entry],
      write: false,
      metafile: true,
    });
    const code = result.outputFiles?.[0]?.text ?? '';
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(code.length).toBeGreaterThan(100_000);
    expect(code).not.toContain('LOCALID#');
    expect(inputs.filter((input) => /node_modules\/jose\//.test(input))).toEqual([]);
    // zod/mini only: classic zod's method-laden schemas cost cold-start time.
    expect(inputs.filter((input) => /node_modules\/zod\/v4\/classic\//.test(input))).toEqual([]);
  });
});
