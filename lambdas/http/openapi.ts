import * as z from 'zod/mini';
import { DEPLOYED_ROUTE_KEYS, ROUTES, type RouteSpec, splitRouteKey } from './route-table';

type JsonSchema = Record<string, unknown>;

const errorSchema = () =>
  z.object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.optional(z.record(z.string(), z.unknown())),
    }),
  });

function schemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
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
  return parameters;
}

/** OpenAPI 3.1 generated from the route table's zod schemas: the document cannot drift from the validation. */
export function buildOpenApiDocument(serverUrl?: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const key of DEPLOYED_ROUTE_KEYS) {
    const route: RouteSpec = ROUTES[key];
    const { method, path } = splitRouteKey(key);
    const isPublic = route.permission === 'public';
    const responses: Record<string, JsonSchema> = {
      [String(route.status)]: {
        description: route.status === 204 ? 'Done' : 'Success',
        ...(route.response
          ? { content: { 'application/json': { schema: schemaOf(route.response(), 'output') } } }
          : {}),
      },
      '400': {
        description: 'Invalid input; `details.issues` names each field',
        content: { 'application/json': { schema: schemaOf(errorSchema(), 'output') } },
      },
    };
    if (route.permission === 'operator') {
      responses['401'] = { description: 'Missing or invalid token' };
      responses['403'] = { description: 'Not a platform operator (every tenant role is refused)' };
    } else if (!isPublic) {
      responses['401'] = { description: 'Missing or invalid token' };
      responses['403'] = {
        description: `Role lacks ${route.permission}, or the caller is a platform operator (no tenant)`,
      };
    }
    if (route.costed) {
      responses['402'] = {
        description: 'Not enough tokens (`details.available`, `details.required`) or the tenant is suspended',
      };
    }
    if (route.params) responses['404'] = { description: 'Not found (or belongs to another tenant)' };
    if (method === 'PATCH' || method === 'POST')
      responses['409'] = { description: 'Conflict (stale version, invalid state or duplicate)' };
    for (const [status, other] of Object.entries(route.otherResponses ?? {})) {
      responses[status] = {
        description: other.description,
        ...(other.response
          ? { content: { 'application/json': { schema: schemaOf(other.response(), 'output') } } }
          : {}),
      };
    }
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      operationId: key.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, ''),
      summary: route.summary,
      tags: [route.lambda],
      ...(isPublic ? { security: [] } : { 'x-permission': route.permission }),
      parameters: parametersOf(route, path),
      ...(route.rawBody
        ? {
            requestBody: {
              required: true,
              description: 'Checked byte for byte against its signature header, then read',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
          }
        : route.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: schemaOf(route.body(), 'input') } },
              },
            }
          : {}),
      responses,
    };
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
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
