import { buildOpenApiDocument } from './openapi';
import { OPENAPI_JSON } from './openapi.generated';
import { DEPLOYED_ROUTE_KEYS, splitRouteKey } from './route-table';

describe('OpenAPI document', () => {
  it('is served as generated from the current route table (run npm run generate:openapi if this fails)', () => {
    expect(JSON.parse(OPENAPI_JSON)).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });

  const doc = buildOpenApiDocument('https://api.example.test') as {
    openapi: string;
    paths: Record<string, Record<string, any>>;
  };

  it('has one operation per route in the route table', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual([...DEPLOYED_ROUTE_KEYS].sort());
  });

  it('documents request bodies from the same zod schemas that validate them', () => {
    const create = doc.paths['/v1/agents']?.post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'businessType', 'model']));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.model.properties.provider.enum).toEqual([
      'bedrock',
      'openai-compatible',
      'scripted',
    ]);
  });

  it('documents the 402 of the routes that spend tokens', () => {
    expect(doc.paths['/v1/agents/{id}/chat']?.post.responses['402']).toBeDefined();
    expect(doc.paths['/v1/agents/{id}']?.get.responses['402']).toBeUndefined();
  });

  it('documents the 429 and its Retry-After on every route that runs a turn, and only there', () => {
    for (const [path, method] of [
      ['/v1/agents/{id}/chat', 'post'],
      ['/v1/agent/process', 'post'],
      ['/v1/agents/{id}/execute', 'post'],
    ] as const) {
      const limited = doc.paths[path]?.[method].responses['429'];
      expect(limited?.headers['Retry-After'].schema).toEqual({ type: 'integer', minimum: 1 });
    }
    expect(doc.paths['/v1/agents']?.post.responses['429']).toBeUndefined();
  });

  it('documents a user’s status, and that it can be changed', () => {
    const patch = doc.paths['/v1/users/{id}']?.patch;
    expect(patch.requestBody.content['application/json'].schema.properties.status.enum).toEqual([
      'active',
      'disabled',
    ]);
    expect(patch.responses['200'].content['application/json'].schema.required).toContain('status');
  });

  it('documents the 409 of an Idempotency-Key reused for a different request on every turn route', () => {
    const paths = buildOpenApiDocument().paths as Record<string, Record<string, any>>;
    for (const [path, method] of [
      ['/v1/agents/{id}/chat', 'post'],
      ['/v1/agent/process', 'post'],
      ['/v1/agents/{id}/execute', 'post'],
    ] as const) {
      const conflict = paths[path]?.[method]?.responses['409'];
      expect(conflict.description).toContain('Idempotency-Key was already used for a different request');
      expect(conflict.content['application/json'].schema).toBeDefined();
    }
    expect(paths['/v1/agents/{id}/chat']?.post.responses['500'].description).toContain('details.actions');
  });

  it('marks public routes and documents path and query parameters', () => {
    expect(doc.paths['/v1/auth/login']?.post.security).toEqual([]);
    const get = doc.paths['/v1/agents/{id}']?.get;
    expect(get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    const list = doc.paths['/v1/agents']?.get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['limit', 'cursor', 'status', 'sort', 'order']),
    );
    for (const key of DEPLOYED_ROUTE_KEYS) {
      const { method, path } = splitRouteKey(key);
      expect(doc.paths[path]?.[method.toLowerCase()]?.responses).toBeDefined();
    }
  });
});
