import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * What a handler needs in its environment to load, with the Cognito identity adapter (the one
 * deployed) and dummy credentials. Nothing is inherited from this process: tsx's loader hooks or a
 * developer's NODE_OPTIONS in the child would be timed along with the bundle.
 */
const HANDLER_ENV: Readonly<Record<string, string>> = {
  TABLE_NAME: 'bench',
  AWS_REGION: 'us-east-1',
  IDENTITY_PROVIDER: 'cognito',
  USER_POOL_ID: 'us-east-1_bench',
  USER_POOL_CLIENT_ID: 'bench',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  // The SDK warns on Node < 22 at client construction; Lambda runs 22, so don't time that stderr write.
  NODE_NO_WARNINGS: '1',
};

// Runs in the child. Exits at once so a handle a module leaves open cannot stall the bench.
const PROBE = `
const file = process.env.BENCH_BUNDLE;
const started = performance.now();
require(file);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms }));
process.exit(0);
`;

/** Milliseconds to `require()` a bundle in a fresh node process (parse + evaluate, no cache). */
export async function coldImportMs(bundleFile: string): Promise<number> {
  try {
    const { stdout } = await run(process.execPath, ['-e', PROBE], {
      env: { ...HANDLER_ENV, BENCH_BUNDLE: bundleFile },
      timeout: 30_000,
    });
    const { ms } = JSON.parse(stdout) as { ms: unknown };
    if (typeof ms !== 'number') throw new Error(`unexpected probe output: ${stdout}`);
    return ms;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`require(${bundleFile}) failed in a fresh node: ${stderr || (error as Error).message}`);
  }
}
