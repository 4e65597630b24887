import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { type DynamoDbLocal, startDynamoDbLocal } from '../local/dynamodb-local';
import { type LocalPlatform, startLocalPlatform } from '../local/platform';

const exitCodeFor = (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : 143);

/**
 * DynamoDB Local is a JVM outside this process. If this process is killed outright (SIGKILL, as
 * tsx does when a signal it relays is not acknowledged within 30 ms), no cleanup here runs and the
 * JVM would outlive the bench. This detached shell holds the read end of a pipe from us, sees our
 * death as EOF, and kills the JVM.
 */
function killWhenOrphaned(pid: number): ChildProcess {
  const guard = spawn('sh', ['-c', `read _; kill ${pid} 2>/dev/null`], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  guard.unref();
  (guard.stdin as Socket | null)?.unref();
  return guard;
}

/**
 * Runs `work` against the local platform and always takes it down again: on return, on error, and
 * on SIGINT/SIGTERM (the first signal makes `work` stop at its next `assertRunning()`, a second one
 * kills the JVM at once). DynamoDB Local is started here and handed to the platform, rather than
 * left to the platform, so that this process owns the JVM's pid for the guard above.
 */
export async function withLocalPlatform<T>(
  work: (platform: LocalPlatform, assertRunning: () => void) => Promise<T>,
): Promise<T> {
  let interrupted: NodeJS.Signals | undefined;
  let dynamo: DynamoDbLocal | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      dynamo?.process.kill('SIGKILL');
      process.exit(exitCodeFor(signal));
    }
    interrupted = signal;
  };
  const assertRunning = () => {
    if (interrupted) throw new Error(`Interrupted by ${interrupted}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let guard: ChildProcess | undefined;
  let platform: LocalPlatform | undefined;
  try {
    dynamo = await startDynamoDbLocal();
    if (dynamo.process.pid !== undefined) guard = killWhenOrphaned(dynamo.process.pid);
    assertRunning();
    platform = await startLocalPlatform({ logRequests: false, dynamoEndpoint: dynamo.endpoint });
    assertRunning();
    return await work(platform, assertRunning);
  } finally {
    await platform?.stop();
    await dynamo?.stop();
    guard?.kill();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // An interrupted run has no figures worth reporting.
    if (interrupted) process.exit(exitCodeFor(interrupted));
  }
}
