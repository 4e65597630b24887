import * as z from 'zod/mini';
import { DEPLOYED_ROUTE_KEYS, ROUTES, type RouteKey, type RouteSpec, splitRouteKey } from './route-table';

type JsonSchema = Record<string, unknown>;

/** The body of every error the application answers (see `errorResponse`). */
const errorSchema = () =>
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.optional(z.record(z.string(), z.unknown())),
    }),
  });

/** The body of the errors API Gateway answers itself (JWT authorizer, payload limit). */
const gatewayErrorSchema = () => z.object({ message: z.string() });

function schemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const json = (schema: JsonSchema) => ({ content: { 'application/json': { schema } } });
const APP_ERROR = { $ref: '#/components/schemas/Error' };
const APP_OR_GATEWAY_ERROR = { anyOf: [APP_ERROR, { $ref: '#/components/schemas/GatewayError' }] };

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    required: true,
    schema: { type: 'integer', minimum: 1 },
  },
};

/**
 * The error statuses a route answers, each with why: implied by the route's shape, plus those it
 * declares in `errors`. This is the one place that knows which facts imply which statuses; the e2e
 * harness (test/support/contract.ts) rejects any answer whose status is not listed here.
 */
export function documentedErrors(spec: RouteSpec): Map<number, string> {
  const errors = new Map<number, string>();
  const add = (status: number, why: string) => {
    const before = errors.get(status);
    errors.set(status, before ? `${before}; or: ${why}` : why);
  };
  add(400, 'Invalid input (path, query, body or headers); `details.issues` names each field');
  if (spec.permission === 'operator') {
    add(401, 'Missing, invalid or expired token');
    add(403, 'Not a platform operator (every tenant role is refused)');
  } else if (spec.permission !== 'public') {
    add(401, 'Missing, invalid or expired token, or its user no longer exists or is disabled');
    add(
      403,
      `Not allowed: the role lacks ${spec.permission}, the operation is outside your rights, or the caller is a platform operator (no tenant)`,
    );
  }
  if (spec.costed) {
    add(402, 'Not enough tokens (`details.available`, `details.required`) or the tenant is suspended');
    add(503, 'The token balance is busy with other writers; nothing was done, retry');
  }
  if (spec.rateLimited) {
    add(
      429,
      'Over the tenant’s or the agent’s turn rate limit (`details.limit`: tenant or agent); nothing was run or charged',
    );
  }
  if (spec.params) add(404, 'Not found (or belongs to another tenant)');
  if (spec.idempotencyKey) {
    add(
      409,
      'The Idempotency-Key was already used for a different request, or its first request is still running',
    );
  }
  if (spec.ifMatch) add(409, 'If-Match names a version that is no longer current');
  add(413, 'The body is larger than the limit');
  if (spec.body) add(415, 'The body is not application/json');
  if (spec.callsModel) add(502, 'The model provider failed (`details.provider` names it)');
  for (const [status, why] of Object.entries(spec.errors ?? {})) add(Number(status), why);
  return errors;
}

function errorResponseOf(status: number, description: string): JsonSchema {
  // API Gateway answers 400 (a malformed request line), 401 (JWT authorizer) and 413 (payload limit) before the Lambda runs.
  const schema = status === 400 || status === 401 || status === 413 ? APP_OR_GATEWAY_ERROR : APP_ERROR;
  return {
    description,
    ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
    ...json(schema),
  };
}

function successResponseOf(spec: RouteSpec): JsonSchema {
  const content: Record<string, JsonSchema> = {};
  if (spec.response) content['application/json'] = { schema: schemaOf(spec.response(), 'output') };
  for (const mediaType of spec.alsoAs ?? []) content[mediaType] = { schema: { type: 'string' } };
  return {
    description: spec.status === 204 ? 'Done' : 'Success',
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

function responsesOf(key: string, spec: RouteSpec): Record<string, JsonSchema> {
  const responses: Record<string, JsonSchema> = { [String(spec.status)]: successResponseOf(spec) };
  for (const [status, other] of Object.entries(spec.otherResponses ?? {})) {
    if (responses[status]) throw new Error(`${key}: status ${status} is documented twice`);
    responses[status] = {
      description: other.description,
      ...(other.response ? json(schemaOf(other.response(), 'output')) : {}),
    };
  }
  for (const [status, description] of documentedErrors(spec)) {
    if (responses[status]) throw new Error(`${key}: status ${status} is both a success and an error`);
    responses[status] = errorResponseOf(status, description);
  }
  return responses;
}

function parametersOf(spec: RouteSpec, path: string): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  const pathSchema = spec.params ? schemaOf(spec.params(), 'input') : undefined;
  for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
    const properties = (pathSchema?.properties ?? {}) as Record<string, JsonSchema>;
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema: properties[name ?? ''] ?? { type: 'string' },
    });
  }
  if (spec.query) {
    const querySchema = schemaOf(spec.query(), 'input');
    const required = new Set((querySchema.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries(
      (querySchema.properties ?? {}) as Record<string, JsonSchema>,
    )) {
      parameters.push({ name, in: 'query', required: required.has(name), schema });
    }
  }
  if (spec.idempotencyKey) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: spec.idempotencyKey === 'required',
      description:
        'Makes retries safe: the same key again returns the first result and does nothing twice; the same key with a different request is a 409',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,200}$' },
    });
  }
  if (spec.ifMatch) {
    parameters.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description:
        'The version you read (its ETag, e.g. "3"): the write is refused with 409 if it changed since',
      schema: { type: 'string', pattern: '^(W/)?"?\\d{1,10}"?$' },
    });
  }
  return parameters;
}

function operationOf(key: string, spec: RouteSpec): JsonSchema {
  const { path } = splitRouteKey(key);
  const isPublic = spec.permission === 'public';
  return {
    operationId: key.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, ''),
    summary: spec.summary,
    tags: [spec.lambda],
    ...(isPublic ? { security: [] } : { 'x-permission': spec.permission }),
    ...(spec.localOnly ? { 'x-local-only': true } : {}),
    parameters: parametersOf(spec, path),
    ...(spec.rawBody
      ? {
          requestBody: {
            required: true,
            description: 'Checked byte for byte against its signature header, then read',
            content: { [spec.rawBodyMediaType ?? 'application/json']: { schema: { type: 'object' } } },
          },
        }
      : spec.body
        ? {
            requestBody: {
              // Optional bodies (`z.optional(...)`) may be left out altogether.
              required: !spec.body().safeParse(undefined).success,
              content: { 'application/json': { schema: schemaOf(spec.body(), 'input') } },
            },
          }
        : {}),
    responses: responsesOf(key, spec),
  };
}

export interface OpenApiOptions {
  /**
   * Also document the local-mode aids (`localOnly` routes, never deployed, marked
   * `x-local-only`): for the e2e harness, which checks local mode's answers to them too.
   */
  readonly includeLocalOnly?: boolean;
}

/** OpenAPI 3.1 generated from the route table's zod schemas: the document cannot drift from the validation. */
export function buildOpenApiDocument(serverUrl?: string, options: OpenApiOptions = {}): JsonSchema {
  const keys = options.includeLocalOnly ? (Object.keys(ROUTES) as RouteKey[]) : DEPLOYED_ROUTE_KEYS;
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const key of keys) {
    const { method, path } = splitRouteKey(key);
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = operationOf(key, ROUTES[key] as RouteSpec);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Agent platform API',
      version: '1.0.0',
      description: 'Multi-tenant LLM agents: tenancy, agents and more.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: schemaOf(errorSchema(), 'output'),
        GatewayError: schemaOf(gatewayErrorSchema(), 'output'),
      },
    },
    paths,
  };
}
