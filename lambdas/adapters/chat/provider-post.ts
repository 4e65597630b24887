import { ProviderError } from '../../domain/actions/ports';
import {
  errorLike,
  isNetworkError,
  oneLineDetail,
  RetriesExhaustedError,
  type RetryOptions,
  type RetryVerdict,
  withRetries,
} from '../retry';

export interface ProviderPostOptions {
  /** Per attempt, response body included. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
}

/**
 * A provider said no, in its own words: `retryable` as the provider's documentation reads its
 * error (rate limit, transient), `retryAfterMs` when it said how long to wait.
 */
export class ProviderAnswerError extends Error {
  constructor(
    readonly retryable: boolean,
    detail: string,
    readonly code?: string,
    readonly retryAfterMs?: number,
  ) {
    super(oneLineDetail(detail));
    this.name = 'ProviderAnswerError';
  }
}

export interface ProviderPost<T> {
  readonly provider: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /**
   * Reads one answer: returns what the caller needs, or throws `ProviderAnswerError` (Slack and
   * Telegram answer failures with HTTP 200 and `ok: false`, so the status alone says too little).
   */
  readonly read: (response: Response, text: string) => T;
  /** Values that must never travel on in an error (tokens; Telegram puts its token in the URL). */
  readonly secrets: readonly string[];
}

/**
 * One JSON POST to a chat provider with the global `fetch`, retried by `withRetries` (rate limits
 * after the provider's own delay, 5xx and network failures with backoff), every failure reported
 * as a `ProviderError` with the secrets blanked out. None of these providers has an idempotency
 * key for a send: a retry after a timeout may send twice, which is accepted over losing a reply.
 */
export async function postToProvider<T>(
  request: ProviderPost<T>,
  options: ProviderPostOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const attempt = async () => {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        accept: 'application/json',
        ...request.headers,
      },
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return request.read(response, await response.text());
  };
  try {
    return await withRetries(attempt, verdict, options.retry ?? {});
  } catch (error) {
    throw redacted(failure(request.provider, error, timeoutMs), request.provider, request.secrets);
  }
}

function verdict(error: unknown): RetryVerdict {
  if (error instanceof ProviderAnswerError) {
    if (!error.retryable) return { retry: false };
    return error.retryAfterMs === undefined ? { retry: true } : { retry: true, afterMs: error.retryAfterMs };
  }
  return { retry: isNetworkError(error) };
}

function failure(provider: string, error: unknown, timeoutMs: number): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof RetriesExhaustedError) {
    const last = error.lastError;
    return new ProviderError(
      provider,
      true,
      `${describe(provider, last, timeoutMs)} (${error.message})`,
      last instanceof ProviderAnswerError ? last.code : undefined,
    );
  }
  if (error instanceof ProviderAnswerError)
    return new ProviderError(provider, false, error.message, error.code);
  return new ProviderError(provider, false, describe(provider, error, timeoutMs));
}

function describe(provider: string, error: unknown, timeoutMs: number): string {
  if (error instanceof ProviderAnswerError) return error.message;
  const like = errorLike(error);
  if (like?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = errorLike(like?.cause) ?? like;
  return `cannot reach ${provider}: ${typeof cause?.message === 'string' ? cause.message : String(error)}`;
}

function redacted(error: ProviderError, provider: string, secrets: readonly string[]): ProviderError {
  const blank = (text: string) =>
    secrets.reduce((result, secret) => (secret ? result.split(secret).join('[redacted]') : result), text);
  const message = error.message.slice(`${provider}: `.length);
  const code = error.providerCode === undefined ? undefined : blank(error.providerCode);
  if (blank(message) === message && code === error.providerCode) return error;
  return new ProviderError(provider, error.retryable, blank(message), code);
}

/** The JSON of an answer, or undefined for a proxy's HTML page. */
export function jsonOf(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A long reply cut into pieces a provider accepts (Telegram 4096 characters, Messenger 2000), at
 * a paragraph, line or word boundary when one is near, never inside a surrogate pair.
 */
export function splitText(text: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > maxChars) {
    let cut = -1;
    for (const boundary of ['\n\n', '\n', ' ']) {
      const at = rest.lastIndexOf(boundary, maxChars);
      if (at > maxChars / 2) {
        cut = at;
        break;
      }
    }
    if (cut < 0) {
      cut = maxChars;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    pieces.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest);
  return pieces;
}
