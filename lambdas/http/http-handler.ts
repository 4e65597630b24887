import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import * as z from 'zod/mini';
import { inPlatformScope, inTenantScope, isTenantId } from '../composition/tenant-scope';
import type { AuditEntry, AuditLog } from '../domain/audit/model';
import { AppError, ForbiddenError, messageOf, ValidationError } from '../domain/shared/errors';
import { newId } from '../domain/shared/ids';
import { type OperatorPrincipal, operatorActor, type Principal } from '../domain/shared/principal';
import { lazySchema } from '../domain/shared/zod';
import { type ApiPermission, roleAllows } from '../domain/tenants/rbac';
import { logger } from '../observability';
import { errorResponse, jsonResult } from './error-response';
import {
  type CurrentUsers,
  expectedVersion,
  jsonBody,
  operatorFrom,
  parseWith,
  principalFrom,
  rawBodyOf,
  tokenCaller,
} from './request';
import type { RouteSpec } from './route-spec';

type Parsed<S, F extends string> = S extends { readonly [P in F]: () => infer T }
  ? T extends z.ZodMiniType
    ? z.output<T>
    : never
  : undefined;

export interface HttpRequest<S extends RouteSpec> {
  readonly principal: S['permission'] extends 'public' | 'operator' ? undefined : Principal;
  /** On `operator` routes: the platform operator calling. */
  readonly operator: S['permission'] extends 'operator' ? OperatorPrincipal : undefined;
  /** On `rawBody` routes: the body exactly as it came (decoded from base64 if it was). */
  readonly rawBody: S extends { readonly rawBody: true } ? string : undefined;
  readonly params: Parsed<S, 'params'>;
  readonly query: Parsed<S, 'query'>;
  readonly body: Parsed<S, 'body'>;
  /** From `If-Match`, for routes that update a versioned entity. */
  readonly expectedVersion: number | undefined;
  readonly event: APIGatewayProxyEventV2WithJWTAuthorizer;
  /** The Lambda's time left (ms), for work that must stop before it is cut off; undefined without a context. */
  readonly remainingTimeMs: () => number | undefined;
}

/** The statuses a route's reply may set: its own and its `otherResponses` (what the document lists). */
type ReplyStatus<S extends RouteSpec> =
  | S['status']
  | (S extends { readonly otherResponses: infer O } ? Extract<keyof O, number> : never);

export interface HttpReply<S extends RouteSpec = RouteSpec> {
  readonly body?: unknown;
  /** A non-JSON body (exports): sent as is with its content type. */
  readonly raw?: { readonly contentType: string; readonly body: string };
  readonly headers?: Record<string, string>;
  /** Overrides the route's status: only with one its `otherResponses` documents. */
  readonly status?: ReplyStatus<S>;
}

export type RouteImplementations<G extends Record<string, RouteSpec>> = {
  readonly [K in keyof G]: (request: HttpRequest<G[K]>) => Promise<HttpReply<G[K]>>;
};

export type HttpHandler = (
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpHandlerOptions {
  readonly maxBodyBytes: number;
  /**
   * Where each request's caller is looked up (one consistent GetItem): required as soon as the
   * group has a route that is not public.
   */
  readonly users?: CurrentUsers;
  /** Where admin changes are recorded (see `ADMIN_PERMISSIONS`); every Lambda with such routes passes it. */
  readonly audit?: AuditLog;
}

/**
 * Successful non-GET routes guarded by one of these are admin changes: each is appended to the
 * audit log here, in one place, with the route, the actor and the ids in the path. The actions
 * routes are left out: their use cases write richer entries of their own.
 */
const ADMIN_PERMISSIONS: ReadonlySet<ApiPermission> = new Set([
  'tenant:write',
  'users:write',
  'locations:write',
  'agents:write',
  'agents:operate',
  'conversations:write',
  'billing:write',
]);

function isAdminChange(routeKey: string, spec: RouteSpec): boolean {
  return (
    !routeKey.startsWith('GET ') &&
    spec.lambda !== 'actions' &&
    spec.permission !== 'public' &&
    spec.permission !== 'operator' &&
    ADMIN_PERMISSIONS.has(spec.permission)
  );
}

async function recordAdminChange(
  audit: AuditLog,
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  caller: { readonly tenantId: string; readonly actor: AuditEntry['actor'] },
  status: number,
): Promise<void> {
  const path = event.pathParameters ?? {};
  const agentId = event.routeKey.includes('/agents/{id}') ? path.id : undefined;
  try {
    await audit.append([
      {
        id: newId('audit'),
        tenantId: caller.tenantId,
        type: 'admin.change',
        at: new Date().toISOString(),
        actor: caller.actor,
        ...(agentId ? { agentId } : {}),
        outcome: String(status),
        details: { route: event.routeKey, ...path },
      },
    ]);
  } catch (error) {
    logger.error('Could not record an admin change in the audit log', {
      route: event.routeKey,
      error: messageOf(error),
    });
  }
}

/** ETag for versioned entities, so clients can send it back as If-Match. */
export const etag = (entity: { version: number }) => ({ etag: `"${entity.version}"` });

/**
 * Builds a Lambda handler for one route group: resolves the route, authenticates and
 * authorizes the caller (the only RBAC check in the system), validates path, query and body
 * against the route table's schemas, runs the route, and shapes the response. Errors are
 * turned into responses by `errorResponse`, in one place.
 */
export function createHttpHandler<G extends Record<string, RouteSpec>>(
  routes: G,
  implementations: RouteImplementations<G>,
  options: HttpHandlerOptions,
): HttpHandler {
  const { users } = options;
  if (
    !users &&
    Object.values(routes).some((spec) => spec.permission !== 'public' && spec.permission !== 'operator')
  ) {
    throw new Error('createHttpHandler: routes that need a caller need options.users to read them with');
  }
  const dispatch = async (
    event: APIGatewayProxyEventV2WithJWTAuthorizer,
    context?: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const spec = routes[event.routeKey] as RouteSpec | undefined;
    const implementation = (
      implementations as Record<string, (request: HttpRequest<RouteSpec>) => Promise<HttpReply>>
    )[event.routeKey];
    if (!spec || !implementation) {
      throw new AppError(404, 'ROUTE_NOT_FOUND', `No route ${event.routeKey}`);
    }
    // Whose data this request may touch, set once here where the tenant is proven: the verified
    // token's tenant (before the caller's record is read), an operator route's path tenant (after
    // the operator is), or, for public routes, none (they enter a tenant's scope once they know it).
    let operator: OperatorPrincipal | undefined;
    let scopeTenant: string | undefined;
    if (spec.permission === 'operator') {
      operator = operatorFrom(event);
      const pathTenant = event.pathParameters?.tenantId;
      // A malformed id stays outside any scope (its path parameter is then refused with a 400).
      if (pathTenant && isTenantId(pathTenant)) scopeTenant = pathTenant;
    } else if (spec.permission !== 'public') {
      scopeTenant = tokenCaller(event).tenantId;
    }
    return scopeTenant
      ? inTenantScope(scopeTenant, () => serve(event, spec, implementation, operator, context))
      : inPlatformScope(() => serve(event, spec, implementation, operator, context));
  };

  const serve = async (
    event: APIGatewayProxyEventV2WithJWTAuthorizer,
    spec: RouteSpec,
    implementation: (request: HttpRequest<RouteSpec>) => Promise<HttpReply>,
    operator: OperatorPrincipal | undefined,
    context: Context | undefined,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    let principal: Principal | undefined;
    if (spec.permission === 'operator') {
      logger.appendKeys({ operatorId: (operator as OperatorPrincipal).userId });
    } else if (spec.permission !== 'public') {
      principal = await principalFrom(event, users as CurrentUsers);
      logger.appendKeys({ tenantId: principal.tenantId, userId: principal.userId });
      if (!roleAllows(principal.role, spec.permission)) {
        throw new ForbiddenError(`Role ${principal.role} lacks ${spec.permission}`);
      }
    }
    const params = spec.params ? parseWith(spec.params(), event.pathParameters ?? {}, 'path') : undefined;
    const query = parseWith(spec.query?.() ?? noQuery(), event.queryStringParameters ?? {}, 'query');
    let body: unknown;
    if (spec.rawBody) {
      // Checked by the route itself (e.g. a signature over these exact bytes).
    } else if (spec.body) {
      body = parseWith(spec.body(), jsonBody(event, options.maxBodyBytes), 'body');
    } else if (!isEmptyBody(event)) {
      // Whatever its size or media type: a route without a body answers 400 to one, never 413/415.
      throw ValidationError.forField('body', 'this endpoint takes no body');
    }
    const reply = await implementation({
      principal,
      operator,
      rawBody: spec.rawBody ? rawBodyOf(event, options.maxBodyBytes) : undefined,
      params,
      query: spec.query ? query : undefined,
      body,
      expectedVersion: expectedVersion(event),
      event,
      remainingTimeMs: () =>
        typeof context?.getRemainingTimeInMillis === 'function'
          ? context.getRemainingTimeInMillis()
          : undefined,
    } as HttpRequest<RouteSpec>);
    const status = reply.status ?? spec.status;
    if (options.audit && principal && isAdminChange(event.routeKey, spec)) {
      await recordAdminChange(
        options.audit,
        event,
        { tenantId: principal.tenantId, actor: { kind: 'user', id: principal.userId } },
        status,
      );
    }
    // An operator's change to a tenant is in that tenant's audit log, under the operator's name.
    const targetTenant = event.pathParameters?.tenantId;
    if (options.audit && operator && targetTenant && !event.routeKey.startsWith('GET ')) {
      await recordAdminChange(
        options.audit,
        event,
        { tenantId: targetTenant, actor: { kind: 'operator', id: operatorActor(operator) } },
        status,
      );
    }
    const headers = { 'x-request-id': event.requestContext.requestId, ...reply.headers };
    if (reply.raw) {
      const result = jsonResult(status, undefined, { ...headers, 'content-type': reply.raw.contentType });
      return { ...result, body: reply.raw.body };
    }
    return jsonResult(status, status === 204 ? undefined : reply.body, headers);
  };

  return middy<APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2>(dispatch)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({
      before: async (request) => {
        logger.appendKeys({
          route: request.event.routeKey,
          requestId: request.event.requestContext.requestId,
        });
      },
      onError: async (request) => {
        request.response = errorResponse(request.error, (error) =>
          logger.error('Unhandled error', error as Error),
        );
        if (request.response.headers)
          request.response.headers['x-request-id'] = request.event.requestContext.requestId;
      },
    });
}

const noQuery = lazySchema(() => z.strictObject({}));

/** No body, or `{}` (clients that always send a JSON object). */
function isEmptyBody(event: APIGatewayProxyEventV2WithJWTAuthorizer): boolean {
  if (!event.body) return true;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return /^\s*(\{\s*\})?\s*$/.test(raw);
}
