import * as z from 'zod';
import {
  agentCloneBody,
  agentCreateBody,
  agentListQuery,
  agentPatchBody,
  agentSchema,
  agentStatsSchema,
  agentVersionSchema,
} from '../domain/agents/schemas';
import { idSchema } from '../domain/shared/ids';
import { pageQuerySchema } from '../domain/shared/pagination';
import type { ApiPermission } from '../domain/tenants/rbac';
import {
  authTokenSchema,
  locationCreateBody,
  locationPatchBody,
  locationSchema,
  loginBody,
  registerTenantBody,
  tenantPatchBody,
  tenantSchema,
  userCreateBody,
  userPatchBody,
  userSchema,
} from '../domain/tenants/schemas';

/**
 * THE route table. The CDK API construct creates one API Gateway route per entry, pointing at
 * the entry's Lambda; the local server maps the same entries onto the same handler functions;
 * the OpenAPI document is generated from it; the HTTP layer enforces `permission` from it.
 * A route exists here and nowhere else.
 */
export const HTTP_LAMBDAS = {
  auth: {
    entry: 'lambdas/handlers/http/auth.ts',
    description: 'Tenant registration and login',
    table: 'readWrite',
    identity: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-cognito-identity-provider',
    ],
  },
  tenancy: {
    entry: 'lambdas/handlers/http/tenancy.ts',
    description: 'Tenant profile, users, roles and locations',
    table: 'readWrite',
    identity: true,
    sdkClients: [
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@aws-sdk/client-cognito-identity-provider',
    ],
  },
  agents: {
    entry: 'lambdas/handlers/http/agents.ts',
    description: 'Agents: configuration, lifecycle, versions and stats',
    table: 'readWrite',
    identity: false,
    sdkClients: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
  },
  system: {
    entry: 'lambdas/handlers/http/system.ts',
    description: 'Health and the OpenAPI document',
    table: 'read',
    identity: false,
    sdkClients: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
  },
} as const satisfies Record<
  string,
  {
    entry: string;
    description: string;
    table: 'read' | 'readWrite';
    identity: boolean;
    sdkClients: readonly string[];
  }
>;
export type HttpLambdaName = keyof typeof HTTP_LAMBDAS;

export interface RouteSpec {
  readonly lambda: HttpLambdaName;
  /** `public` routes have no authorizer; all others need a valid token and this permission. */
  readonly permission: ApiPermission | 'public';
  readonly summary: string;
  readonly params?: z.ZodType<Record<string, unknown>>;
  readonly query?: z.ZodType<Record<string, unknown>>;
  readonly body?: z.ZodType;
  readonly status: number;
  readonly response?: z.ZodType;
}

const agentParams = z.strictObject({ id: idSchema('agent') });
const versionParams = z.strictObject({
  id: idSchema('agent'),
  version: z.coerce.number().int().min(1).max(1e9),
});
const userParams = z.strictObject({ id: idSchema('user') });
const locationParams = z.strictObject({ id: idSchema('location') });
const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().optional() });
const authResult = z.object({ tenant: tenantSchema, user: userSchema, auth: authTokenSchema });

export const ROUTES = {
  'GET /v1/health': {
    lambda: 'system',
    permission: 'public',
    summary: 'Liveness and table reachability',
    status: 200,
    response: z.object({ status: z.enum(['ok', 'degraded']), checks: z.record(z.string(), z.string()) }),
  },
  'GET /v1/openapi.json': {
    lambda: 'system',
    permission: 'public',
    summary: 'This API as an OpenAPI 3.1 document',
    status: 200,
  },
  'POST /v1/auth/register': {
    lambda: 'auth',
    permission: 'public',
    summary: 'Register a tenant and its owner; returns a token for the owner',
    body: registerTenantBody,
    status: 201,
    response: authResult,
  },
  'POST /v1/auth/login': {
    lambda: 'auth',
    permission: 'public',
    summary: 'Exchange email and password for a bearer token',
    body: loginBody,
    status: 200,
    response: authTokenSchema,
  },
  'GET /v1/me': {
    lambda: 'tenancy',
    permission: 'tenant:read',
    summary: 'The calling user',
    status: 200,
    response: userSchema,
  },
  'GET /v1/tenant': {
    lambda: 'tenancy',
    permission: 'tenant:read',
    summary: 'The caller’s tenant',
    status: 200,
    response: tenantSchema,
  },
  'PATCH /v1/tenant': {
    lambda: 'tenancy',
    permission: 'tenant:write',
    summary: 'Rename the tenant',
    body: tenantPatchBody,
    status: 200,
    response: tenantSchema,
  },
  'GET /v1/users': {
    lambda: 'tenancy',
    permission: 'users:read',
    summary: 'List users',
    query: pageQuerySchema,
    status: 200,
    response: pageOf(userSchema),
  },
  'POST /v1/users': {
    lambda: 'tenancy',
    permission: 'users:write',
    summary: 'Create a user with a role, action grants and locations',
    body: userCreateBody,
    status: 201,
    response: userSchema,
  },
  'GET /v1/users/{id}': {
    lambda: 'tenancy',
    permission: 'users:read',
    summary: 'Get a user',
    params: userParams,
    status: 200,
    response: userSchema,
  },
  'PATCH /v1/users/{id}': {
    lambda: 'tenancy',
    permission: 'users:write',
    summary: 'Change a user’s name, role, grants or locations',
    params: userParams,
    body: userPatchBody,
    status: 200,
    response: userSchema,
  },
  'DELETE /v1/users/{id}': {
    lambda: 'tenancy',
    permission: 'users:write',
    summary: 'Delete a user',
    params: userParams,
    status: 204,
  },
  'GET /v1/locations': {
    lambda: 'tenancy',
    permission: 'locations:read',
    summary: 'List locations',
    query: pageQuerySchema,
    status: 200,
    response: pageOf(locationSchema),
  },
  'POST /v1/locations': {
    lambda: 'tenancy',
    permission: 'locations:write',
    summary: 'Create a location',
    body: locationCreateBody,
    status: 201,
    response: locationSchema,
  },
  'GET /v1/locations/{id}': {
    lambda: 'tenancy',
    permission: 'locations:read',
    summary: 'Get a location',
    params: locationParams,
    status: 200,
    response: locationSchema,
  },
  'PATCH /v1/locations/{id}': {
    lambda: 'tenancy',
    permission: 'locations:write',
    summary: 'Update a location',
    params: locationParams,
    body: locationPatchBody,
    status: 200,
    response: locationSchema,
  },
  'DELETE /v1/locations/{id}': {
    lambda: 'tenancy',
    permission: 'locations:write',
    summary: 'Delete a location',
    params: locationParams,
    status: 204,
  },
  'GET /v1/agents': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'List agents with filters, sort and cursor',
    query: agentListQuery,
    status: 200,
    response: pageOf(agentSchema),
  },
  'POST /v1/agents': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Create an agent (draft)',
    body: agentCreateBody,
    status: 201,
    response: agentSchema,
  },
  'GET /v1/agents/{id}': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'Get an agent',
    params: agentParams,
    status: 200,
    response: agentSchema,
  },
  'PATCH /v1/agents/{id}': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Update an agent’s configuration (send If-Match: "<version>" to guard against stale writes)',
    params: agentParams,
    body: agentPatchBody,
    status: 200,
    response: agentSchema,
  },
  'DELETE /v1/agents/{id}': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Soft-delete an agent',
    params: agentParams,
    status: 204,
  },
  'POST /v1/agents/{id}/start': {
    lambda: 'agents',
    permission: 'agents:operate',
    summary: 'Start an agent',
    params: agentParams,
    status: 200,
    response: agentSchema,
  },
  'POST /v1/agents/{id}/pause': {
    lambda: 'agents',
    permission: 'agents:operate',
    summary: 'Pause an active agent',
    params: agentParams,
    status: 200,
    response: agentSchema,
  },
  'POST /v1/agents/{id}/resume': {
    lambda: 'agents',
    permission: 'agents:operate',
    summary: 'Resume a paused agent',
    params: agentParams,
    status: 200,
    response: agentSchema,
  },
  'POST /v1/agents/{id}/stop': {
    lambda: 'agents',
    permission: 'agents:operate',
    summary: 'Stop an agent',
    params: agentParams,
    status: 200,
    response: agentSchema,
  },
  'POST /v1/agents/{id}/clone': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Clone an agent’s configuration into a new draft',
    params: agentParams,
    body: agentCloneBody.default({}),
    status: 201,
    response: agentSchema,
  },
  'GET /v1/agents/{id}/versions': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'List configuration versions, newest first',
    params: agentParams,
    query: pageQuerySchema,
    status: 200,
    response: pageOf(agentVersionSchema),
  },
  'GET /v1/agents/{id}/versions/{version}': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'Get one configuration version',
    params: versionParams,
    status: 200,
    response: agentVersionSchema,
  },
  'POST /v1/agents/{id}/versions/{version}/rollback': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Make an earlier version’s configuration current (as a new version)',
    params: versionParams,
    status: 200,
    response: agentSchema,
  },
  'GET /v1/agents/{id}/stats': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'Execution statistics',
    params: agentParams,
    status: 200,
    response: agentStatsSchema,
  },
} as const satisfies Record<string, RouteSpec>;

export type RouteKey = keyof typeof ROUTES;
export type RoutesOf<L extends HttpLambdaName> = {
  [K in RouteKey]: (typeof ROUTES)[K]['lambda'] extends L ? K : never;
}[RouteKey];

export function splitRouteKey(key: string): { method: string; path: string } {
  const [method = '', path = ''] = key.split(' ');
  return { method, path };
}
