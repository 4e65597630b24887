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
  | 'actions';

export interface RouteSpec {
  readonly lambda: HttpLambdaName;
  /** `public` routes have no authorizer; all others need a valid token and this permission. */
  readonly permission: ApiPermission | 'public';
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
  /** Error statuses this route answers with, described for the OpenAPI document (beyond the defaults). */
  readonly errors?: Readonly<Record<number, string>>;
}

/** The routes one Lambda serves, keyed by API Gateway route key (`METHOD /path`). */
export type RouteGroup<L extends HttpLambdaName> = Record<string, RouteSpec & { readonly lambda: L }>;

export function splitRouteKey(key: string): { method: string; path: string } {
  const [method = '', path = ''] = key.split(' ');
  return { method, path };
}
