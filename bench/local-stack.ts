import { type DynamoDbLocal, startDynamoDbLocal } from '../local/dynamodb-local';
import { type LocalPlatform, startLocalPlatform } from '../local/platform';

const exitCodeFor = (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : 143);

/**
 * Runs `work` against the local platform and always takes it down again: on return, on error, and
 * on SIGINT/SIGTERM (the first signal makes `work` stop at its next `assertRunning()`, a second one
 * kills the JVM at once). DynamoDB Local is started here and handed to the platform, rather than
 * left to the platform, so that a second signal can kill the JVM at once.
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
  let platform: LocalPlatform | undefined;
  try {
    dynamo = await startDynamoDbLocal();
    assertRunning();
    platform = await startLocalPlatform({ logRequests: false, dynamoEndpoint: dynamo.endpoint });
    assertRunning();
    return await work(platform, assertRunning);
  } finally {
    await platform?.stop();
    await dynamo?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // An interrupted run has no figures worth reporting.
    if (interrupted) process.exit(exitCodeFor(interrupted));
  }
}

/**
 * A set-up call to the local platform's API (registering, topping up, creating agents …): the
 * parsed JSON body, or an error naming the call on any status from 300. Each call carries a fresh
 * Idempotency-Key unless `idempotencyKey` is false (a bench timing the route without it).
 */
export async function platformApi<T>(
  platform: Pick<LocalPlatform, 'url'>,
  call: { method: string; path: string; body?: unknown; token?: string; idempotencyKey?: boolean },
): Promise<T> {
  const { method, path, body, token } = call;
  const response = await fetch(`${platform.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(call.idempotencyKey === false ? {} : { 'idempotency-key': `bench-${Date.now()}-${Math.random()}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}
