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
  /** The success body's shape, for the OpenAPI document; built only when it is. */
  readonly response?: () => z.ZodMiniType;
  /**
   * The body is not JSON for the handler to parse but bytes to check as they came (a webhook's
   * signature covers the raw body): the implementation reads `rawBody`.
   */
  readonly rawBody?: boolean;
  /** Statuses beyond the success status and the usual errors, as the OpenAPI document lists them. */
  readonly otherResponses?: Readonly<
    Record<number, { readonly description: string; readonly response?: () => z.ZodMiniType }>
  >;
}

/** The routes one Lambda serves, keyed by API Gateway route key (`METHOD /path`). */
export type RouteGroup<L extends HttpLambdaName> = Record<string, RouteSpec & { readonly lambda: L }>;

export function splitRouteKey(key: string): { method: string; path: string } {
  const [method = '', path = ''] = key.split(' ');
  return { method, path };
}
