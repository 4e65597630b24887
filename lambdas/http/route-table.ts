import type { RouteSpec } from './route-spec';
import { ACTION_ROUTES } from './routes/actions';
import { AGENT_ROUTES } from './routes/agents';
import { AUTH_ROUTES } from './routes/auth';
import { BILLING_ROUTES } from './routes/billing';
import { MEMORY_ROUTES } from './routes/memory';
import { RUNTIME_ROUTES } from './routes/runtime';
import { SYSTEM_ROUTES } from './routes/system';
import { TENANCY_ROUTES } from './routes/tenancy';
import { WEBHOOK_ROUTES } from './routes/webhooks';

export { type HttpLambdaName, type RouteSpec, splitRouteKey } from './route-spec';

/**
 * THE route table. The CDK API construct creates one API Gateway route per entry, pointing at
 * the entry's Lambda; the local server maps the same entries onto the same handler functions;
 * the OpenAPI document is generated from it; the HTTP layer enforces `permission` from it.
 * Each Lambda's routes are a group in `routes/` (a Lambda loads only its own group's schemas);
 * a route exists in exactly one group.
 */
export const ROUTES = {
  ...SYSTEM_ROUTES,
  ...AUTH_ROUTES,
  ...TENANCY_ROUTES,
  ...AGENT_ROUTES,
  ...MEMORY_ROUTES,
  ...RUNTIME_ROUTES,
  ...BILLING_ROUTES,
  ...ACTION_ROUTES,
  ...WEBHOOK_ROUTES,
} as const satisfies Record<string, RouteSpec>;
export type RouteKey = keyof typeof ROUTES;

/** The routes deployed behind API Gateway (and documented): all but the local-mode aids. */
export const DEPLOYED_ROUTE_KEYS = (Object.keys(ROUTES) as RouteKey[]).filter(
  (key) => !(ROUTES[key] as RouteSpec).localOnly,
);
