import type * as z from 'zod/mini';
import type { ApiPermission } from '../domain/tenants/rbac';

export type HttpLambdaName =
  | 'auth'
  | 'tenancy'
  | 'agents'
  | 'system'
  | 'runtime'
  | 'memory'
  | 'billing'
  | 'actions'
  | 'webhooks';

export interface RouteSpec {
  readonly lambda: HttpLambdaName;
  /**
   * `public` routes have no authorizer (their handler checks whatever proof the caller brings, e.g.
   * a webhook signature); `operator` routes need a platform operator's token (see
   * `OPERATOR_GROUP`) and refuse every tenant role; all others need a tenant user's token whose
   * role grants this permission (and refuse operators).
   */
  readonly permission: ApiPermission | 'public' | 'operator';
  readonly summary: string;
  // Schemas are thunks (built once, on first use): see `lazySchema`.
  readonly params?: () => z.ZodMiniType<Record<string, unknown>>;
  readonly query?: () => z.ZodMiniType<Record<string, unknown>>;
  readonly body?: () => z.ZodMiniType;
  readonly status: number;
  /** Served by the local server only (a developer aid, e.g. the outbox); never deployed. */
  readonly localOnly?: boolean;
  /** The route spends tokens: it can answer 402 (balance short, tenant suspended). */
  readonly costed?: boolean;
  /** The route runs a turn: it is admitted by the tenant's turn rate limits (429 with Retry-After). */
  readonly rateLimited?: boolean;
  /** The success body's shape, for the OpenAPI document; built only when it is. */
  readonly response?: () => z.ZodMiniType;
  /**
   * Success bodies in other media types than JSON (e.g. `text/csv` for an export). The OpenAPI
   * document lists them beside `response` and the e2e harness accepts them.
   */
  readonly alsoAs?: readonly string[];
  /**
   * Other answers than `status` that are not errors, by status: e.g. 202 for a queued execution,
   * 503 for a degraded health check. A handler's `HttpReply.status` must be one of these.
   */
  readonly otherResponses?: Readonly<Record<number, OtherResponse>>;
  /**
   * Error statuses the route answers that its shape does not already imply, each with when it
   * does. Implied (see `documentedErrors` in openapi.ts): 400 always; 401 and 403 unless public;
   * 402 and 503 when `costed`; 404 with `params`; 409 with `idempotencyKey` or `ifMatch`;
   * 413 always, 415 with a `body`; 502 with `callsModel`; 429 and 503 carry `Retry-After`.
   */
  readonly errors?: Readonly<Partial<Record<DeclaredErrorStatus, string>>>;
  /**
   * The route reads `Idempotency-Key` (documented as a header; 409 for the same key with a
   * different request, or one still being recorded). `required`: 400 without it.
   */
  readonly idempotencyKey?: 'required' | 'optional';
  /** The route honours `If-Match: "<version>"` (409 when stale). */
  readonly ifMatch?: boolean;
  /** The route calls a chat model: 502 when the provider fails. */
  readonly callsModel?: boolean;
  /**
   * The body is not JSON for the handler to parse but bytes to check as they came (a webhook's
   * signature covers the raw body): the implementation reads `rawBody`.
   */
  readonly rawBody?: boolean;
  /** The media type a `rawBody` route takes (JSON unless said): Twilio posts form-encoded bodies. */
  readonly rawBodyMediaType?: string;
}

/** An answer documented besides a route's main success. */
export interface OtherResponse {
  readonly description: string;
  readonly response?: () => z.ZodMiniType;
}

/** Error statuses a route may declare in `errors` (the others are implied by its shape). */
export type DeclaredErrorStatus = 401 | 402 | 403 | 404 | 409 | 422 | 429 | 500 | 502 | 503 | 504;

/** The routes one Lambda serves, keyed by API Gateway route key (`METHOD /path`). */
export type RouteGroup<L extends HttpLambdaName> = Record<string, RouteSpec & { readonly lambda: L }>;

export function splitRouteKey(key: string): { method: string; path: string } {
  const [method = '', path = ''] = key.split(' ');
  return { method, path };
}
