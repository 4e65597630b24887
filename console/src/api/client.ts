import createClient, { type Middleware } from 'openapi-fetch';
import { setWsBase } from './live';
import type { components, paths } from './schema.generated';

export type { paths };

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
/** The JSON body a path and method answer with on `status`. */
export type ResponseOf<
  P extends keyof paths,
  M extends keyof paths[P],
  S extends number = 200,
> = paths[P][M] extends { responses: infer R } ? (S extends keyof R ? Json<R[S]> : never) : never;
/** The JSON body a path and method take. */
export type BodyOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

type ApiError = components['schemas']['Error'] | components['schemas']['GatewayError'];

/** An API answer other than success, in words: the API's own message, which names each bad field. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    /** The API's `error.details`: e.g. `issues` (field, message) or `currentVersion` on a 409. */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

/** The 409 of a stale If-Match (`details.currentVersion`): someone else saved it since the page read it. */
export const changedMeanwhile = (error: unknown): boolean =>
  error instanceof ApiFailure && error.status === 409 && error.details?.currentVersion !== undefined;

/**
 * Sends a write made with If-Match: true when it landed; false, after `stale()`, when someone
 * changed the record meanwhile; any other failure is thrown as it came.
 */
export async function unlessChangedMeanwhile(
  write: () => Promise<unknown>,
  stale: () => void,
): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (!changedMeanwhile(error)) throw error;
    stale();
    return false;
  }
}

const STATUS_WORDS: Record<number, string> = {
  401: 'Your session has ended: sign in again.',
  403: 'Your role may not do this.',
  404: 'Not found: it may have been deleted.',
  429: 'Too many requests: wait a moment and try again.',
  500: 'The server failed. Try again; if it keeps failing, the audit log and server logs say more.',
  503: 'The service is unavailable right now.',
};

export function failureOf(status: number, body: unknown): ApiFailure {
  const error = body as Partial<ApiError> | undefined;
  if (error && 'error' in error && error.error) {
    return new ApiFailure(status, error.error.message, error.error.code, error.error.details);
  }
  if (status === 401 || status >= 500 || !(error && 'message' in error && error.message)) {
    return new ApiFailure(status, STATUS_WORDS[status] ?? `The request failed (HTTP ${status}).`);
  }
  return new ApiFailure(status, error.message);
}

let apiBase = '';
let bearer: string | undefined;
let onSignedOut: () => void = () => undefined;

/** Where the API is: the same origin unless the deployment's config.json names it. */
export async function configureApi(): Promise<void> {
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (response.ok) {
      const config = (await response.json()) as { apiUrl?: unknown; wsUrl?: unknown };
      if (typeof config.apiUrl === 'string') apiBase = config.apiUrl.replace(/\/$/, '');
      if (typeof config.wsUrl === 'string') setWsBase(config.wsUrl);
    }
  } catch {
    // No config: the API is served beside the console (local mode).
  }
}

export function setBearer(token: string | undefined, signedOut?: () => void): void {
  bearer = token;
  if (signedOut) onSignedOut = signedOut;
}

const auth: Middleware = {
  onRequest({ request }) {
    if (bearer && !request.headers.has('authorization')) {
      request.headers.set('authorization', `Bearer ${bearer}`);
    }
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && bearer) onSignedOut();
    return response;
  },
};

let client: ReturnType<typeof createClient<paths>> | undefined;
/** The typed client (openapi-fetch over the generated paths). */
export function api() {
  if (!client) {
    client = createClient<paths>({ baseUrl: apiBase });
    client.use(auth);
  }
  return client;
}

/** The data of a successful answer, or an ApiFailure in words. */
export async function must<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiFailure(
      0,
      'The server cannot be reached: check your connection and that the API is running.',
    );
  }
  if (!result.response.ok) throw failureOf(result.response.status, result.error);
  return result.data as NonNullable<T>;
}

/** The API's absolute base URL (config.json's `apiUrl`, or this page's origin): for URLs to hand out. */
export function apiOrigin(): string {
  return apiBase || location.origin;
}
