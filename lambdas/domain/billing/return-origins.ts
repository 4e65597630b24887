import { AppError } from '../shared/errors';

/**
 * The hosted console's origin, for the return of a buyer from the provider's hosted checkout.
 *
 * The console the platform hosts on AWS lives in a stack deployed after the API's, so the billing
 * Lambda cannot be given its address at deployment (a cycle); the console stack writes it to a
 * parameter with a fixed name instead, and this reads it when a purchase first names a return
 * origin that is not among the configured ones. The origin is kept for the life of the process.
 * No parameter (the console is not deployed yet) allows nothing more, and is asked again after
 * `missRetryMs`, so a console deployed later is found without a cold start; a read that fails is
 * a 503 naming the parameter (and is not remembered): refusing a valid console with a 400 would
 * send its buyer away with the wrong reason.
 */

/**
 * One parameter's value: undefined when there is no such parameter; throws when it cannot tell
 * (the adapter on AWS is lambdas/adapters/ssm/parameter.ts).
 */
export type ParameterReader = (name: string) => Promise<string | undefined>;

/** Resolves to the hosted console's origin (`https://…`), or undefined when there is none yet. */
export type HostedConsoleOrigin = () => Promise<string | undefined>;

export const DEFAULT_MISS_RETRY_MS = 60_000;

export function hostedConsoleOrigin(
  read: ParameterReader,
  parameterName: string,
  options: { readonly now?: () => number; readonly missRetryMs?: number } = {},
): HostedConsoleOrigin {
  const now = options.now ?? Date.now;
  const missRetryMs = options.missRetryMs ?? DEFAULT_MISS_RETRY_MS;
  let found: string | undefined;
  let missedAt: number | undefined;
  let reading: Promise<string | undefined> | undefined;
  const unavailable = (why: string) => {
    const error = new AppError(
      503,
      'CONSOLE_ORIGIN_UNAVAILABLE',
      `The hosted console's address could not be read (SSM parameter ${parameterName}: ${why}); try again shortly`,
    );
    error.retryAfterSeconds = 5;
    return error;
  };
  const load = async (): Promise<string | undefined> => {
    let value: string | undefined;
    try {
      value = await read(parameterName);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw unavailable(`read failed, ${name}`);
    }
    if (value === undefined) {
      missedAt = now();
      return undefined;
    }
    let origin: string | undefined;
    try {
      const url = new URL(value.trim());
      if (url.protocol === 'https:') origin = url.origin;
    } catch {
      origin = undefined;
    }
    if (!origin) throw unavailable('not an https URL');
    found = origin;
    return origin;
  };
  return async () => {
    if (found !== undefined) return found;
    if (missedAt !== undefined && now() - missedAt < missRetryMs) return undefined;
    // Concurrent purchases in one process share one read.
    reading ??= load().finally(() => {
      reading = undefined;
    });
    return reading;
  };
}

/** The configured origins first (no read at all for them), then the hosted console's. */
export async function isReturnOrigin(
  origin: string,
  configured: readonly string[] | undefined,
  hosted: HostedConsoleOrigin | undefined,
): Promise<boolean> {
  if ((configured ?? []).includes(origin)) return true;
  if (!hosted) return false;
  return (await hosted()) === origin;
}
