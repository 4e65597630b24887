import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { OUT_DIR } from './paths';

/**
 * Benches that start their own local platform run in a child process each (one local platform per
 * process, and the other benches have theirs): the parent runs the bench file with `--out`, the
 * child writes its result there as JSON, the parent reads it back.
 */

/** Turn limits the benches never reach: every turn still pays its admission write, none is refused. */
export const UNREACHED_TURN_RATE_LIMITS = JSON.stringify({
  turnsPerMinute: 100_000,
  agentTurnsPerMinute: 100_000,
});

export async function measureInChildProcess<T>(child: {
  /** The bench file (its `__filename`); its result goes to .bench/<name>.child.json. */
  readonly script: string;
  /** What progress lines and errors call it ("voice bench"). */
  readonly label: string;
  /** The bench's own options, passed as `--name value`. */
  readonly flags: Readonly<Record<string, string | number>>;
  /** Node options besides the parent's (`--expose-gc`). */
  readonly nodeOptions?: readonly string[];
  /** Environment besides the parent's; Powertools logging is silenced in every child. */
  readonly env?: Readonly<Record<string, string>>;
  readonly progress: (message: string) => void;
}): Promise<T> {
  await mkdir(OUT_DIR, { recursive: true });
  const out = join(OUT_DIR, `${basename(child.script, '.ts')}.child.json`);
  await rm(out, { force: true });
  child.progress(`${child.label}: starting a child process with its own DynamoDB Local and local platform…`);
  const flags = Object.entries(child.flags).flatMap(([name, value]) => [`--${name}`, String(value)]);
  await new Promise<void>((resolve, reject) => {
    const running = spawn(
      process.execPath,
      [...process.execArgv, ...(child.nodeOptions ?? []), child.script, ...flags, '--out', out],
      // Progress and errors on stderr, as the parent's; stdout stays the parent's report.
      {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', ...child.env },
      },
    );
    running.on('error', reject);
    running.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`the ${child.label} exited with ${signal ?? `code ${String(code)}`}`)),
    );
  });
  const result = JSON.parse(await readFile(out, 'utf8')) as T;
  await rm(out, { force: true });
  return result;
}

/**
 * A bench file's own entry point: with `--out` (run by measureInChildProcess) the result is written
 * there for the parent, otherwise printed. A failure is printed and sets the exit code; the promise
 * never rejects.
 */
export async function finishBench<T>(
  work: Promise<T>,
  out: string | undefined,
  print: (result: T) => void | Promise<void>,
): Promise<void> {
  try {
    const result = await work;
    if (out) await writeFile(out, JSON.stringify(result));
    else await print(result);
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
}
