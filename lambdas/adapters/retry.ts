/**
 * Exponential backoff with full jitter (delay = random × min(cap, base × 2^(attempt − 1))), so
 * that many Lambdas throttled at the same moment do not all come back at the same moment. The
 * model adapters count every attempt here and nowhere else: their SDK clients are built with
 * their own retries off.
 */
export interface RetryOptions {
  /** Attempts in all, the first one included. */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  /** Upper bound of one backoff delay, and of a server's `Retry-After` we are willing to wait for. */
  readonly maxDelayMs?: number;
  /** Injected by tests, which must neither wait nor depend on chance. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** What a failed attempt says about trying again; `afterMs` is the server's own `Retry-After`. */
export type RetryVerdict = { readonly retry: false } | { readonly retry: true; readonly afterMs?: number };

/** The operation kept failing with retryable errors until the attempts (or the patience) ran out. */
export class RetriesExhaustedError extends Error {
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(`gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}`);
    this.name = 'RetriesExhaustedError';
  }
}

export const DEFAULT_RETRY = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 10_000 } as const;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `operation` until it succeeds, fails with an error `verdict` calls final (rethrown as is),
 * or the attempts run out (`RetriesExhaustedError` carrying the last error). A `Retry-After`
 * longer than `maxDelayMs` ends the retries at once: waiting less than the server asked would
 * only spend an attempt, and waiting longer would hold a request that a caller is waiting on.
 */
export async function withRetries<T>(
  operation: (attempt: number) => Promise<T>,
  verdict: (error: unknown) => RetryVerdict,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_RETRY.maxAttempts);
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;

  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const next = verdict(error);
      if (!next.retry) throw error;
      if (attempt >= maxAttempts) throw new RetriesExhaustedError(attempt, error);
      let delayMs: number;
      if (next.afterMs !== undefined) {
        if (next.afterMs > maxDelayMs) throw new RetriesExhaustedError(attempt, error);
        delayMs = next.afterMs;
      } else {
        delayMs = Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
      }
      await sleep(delayMs);
    }
  }
}

/** Node's socket-level failures: the request may never have reached the server, so trying again is safe. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * A connection that failed or timed out (SDK `TimeoutError`, `AbortSignal.timeout`, `fetch`'s
 * `TypeError` whose cause is a socket error). These have no exception class to test with
 * `instanceof`, so they are known by name and code, looked for along the `cause` chain; duck-typed,
 * because `fetch`'s errors come from another realm than the caller's `Error` in some runtimes
 * (jest's sandbox among them).
 */
export function isNetworkError(error: unknown): boolean {
  let current = errorLike(error);
  for (let depth = 0; current && depth < 5; depth++) {
    if (current.name === 'TimeoutError') return true;
    if (typeof current.code === 'string' && NETWORK_ERROR_CODES.has(current.code)) return true;
    current = errorLike(current.cause);
  }
  return false;
}

export interface ErrorLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
}

export function errorLike(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null ? (value as ErrorLike) : undefined;
}

/** The error's `name` (an SDK exception's is its modelled type, e.g. `ThrottlingException`), if it has one. */
export function errorName(error: unknown): string | undefined {
  const name = errorLike(error)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** `Retry-After`, as providers send it (seconds or an HTTP date), in milliseconds from now. */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** A provider's error text on one line and clipped: enough to say what failed, never a whole page. */
export function oneLineDetail(text: string, maxChars = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > maxChars ? `${line.slice(0, maxChars)}…` : line;
}
