import { buildOpenApiDocument, documentedErrors } from './openapi';
import { OPENAPI_JSON } from './openapi.generated';
import { DEPLOYED_ROUTE_KEYS, ROUTES, type RouteSpec, splitRouteKey } from './route-table';

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

  const responsesOf = (path: string, method: string) =>
    doc.paths[path]?.[method]?.responses as Record<string, any>;
  const successSchemaOf = (path: string, method: string, status = '200') =>
    responsesOf(path, method)[status].content['application/json'].schema;
  const itemSchemaOf = (path: string) => successSchemaOf(path, 'get').properties.items.items;
  const parameterOf = (path: string, method: string, name: string) =>
    doc.paths[path]?.[method]?.parameters.find((p: { name: string }) => p.name === name);

  it('documents the fields the server returns (tenantId and the execution’s model, channel and authorship)', () => {
    for (const path of ['/v1/actions', '/v1/approvals', '/v1/audit', '/v1/conversations']) {
      expect(itemSchemaOf(path).required).toContain('tenantId');
    }
    expect(successSchemaOf('/v1/policies', 'get').required).toContain('tenantId');
    expect(successSchemaOf('/v1/tenant/emergency-stop', 'post').properties.stop.required).toContain(
      'tenantId',
    );
    const execution = successSchemaOf('/v1/executions/{id}', 'get');
    expect(Object.keys(execution.properties)).toEqual(
      expect.arrayContaining([
        'channel',
        'conversationId',
        'customerId',
        'provider',
        'modelId',
        'createdBy',
        'updatedAt',
      ]),
    );
    expect(execution.additionalProperties).toBe(false);
    // Internals stay out: the approval workflow's execution id, the summary's bookmark.
    expect(itemSchemaOf('/v1/approvals').properties.workflowExecutionId).toBeUndefined();
    expect(itemSchemaOf('/v1/conversations').properties.summarizedThrough).toBeUndefined();
  });

  it('types limits and versions as integers', () => {
    expect(parameterOf('/v1/agents', 'get', 'limit').schema).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 100,
    });
    expect(parameterOf('/v1/agents/{id}/versions/{version}', 'get', 'version').schema.type).toBe('integer');
  });

  it('documents Idempotency-Key (required on purchases and grants, optional on turns) and If-Match', () => {
    expect(parameterOf('/v1/tokens/purchase', 'post', 'Idempotency-Key')).toMatchObject({
      in: 'header',
      required: true,
    });
    expect(parameterOf('/v1/agents/{id}/chat', 'post', 'Idempotency-Key')).toMatchObject({ required: false });
    expect(parameterOf('/v1/agent/process', 'post', 'Idempotency-Key')).toBeDefined();
    expect(parameterOf('/v1/agents/{id}/execute', 'post', 'Idempotency-Key')).toBeDefined();
    expect(parameterOf('/v1/agents/{id}', 'patch', 'If-Match')).toMatchObject({
      in: 'header',
      required: false,
    });
    expect(parameterOf('/v1/agents/{id}', 'get', 'If-Match')).toBeUndefined();
  });

  it('documents the statuses the server answers beyond the defaults', () => {
    expect(responsesOf('/v1/auth/login', 'post')['401']).toBeDefined();
    expect(responsesOf('/v1/tenant/emergency-stop', 'get')['404']).toBeDefined();
    expect(responsesOf('/v1/agent/process', 'post')['404']).toBeDefined();
    expect(responsesOf('/v1/agents/{id}/chat', 'post')['502']).toBeDefined();
    expect(responsesOf('/v1/agent/process', 'post')['502']).toBeDefined();
    expect(responsesOf('/v1/agents/{id}/execute', 'post')['202']).toBeDefined();
    expect(responsesOf('/v1/health', 'get')['503']).toBeDefined();
    expect(Object.keys(responsesOf('/v1/conversations/{id}/export', 'get')['200'].content)).toEqual([
      'application/json',
      'text/csv',
    ]);
    // 409 only where something can conflict, 415 only where there is a body.
    expect(responsesOf('/v1/agents', 'post')['409']).toBeUndefined();
    expect(responsesOf('/v1/agents/{id}/start', 'post')['409']).toBeDefined();
    expect(responsesOf('/v1/agents/{id}/start', 'post')['415']).toBeUndefined();
    expect(responsesOf('/v1/agents', 'post')['415']).toBeDefined();
  });

  it('gives every error the shared error body, and API Gateway’s own shape where the gateway answers', () => {
    expect(responsesOf('/v1/agents/{id}', 'get')['404'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    expect(responsesOf('/v1/agents/{id}', 'get')['401'].content['application/json'].schema.anyOf).toEqual([
      { $ref: '#/components/schemas/Error' },
      { $ref: '#/components/schemas/GatewayError' },
    ]);
    expect(responsesOf('/v1/agents/{id}/chat', 'post')['503'].headers['Retry-After']).toMatchObject({
      required: true,
    });
  });

  it('states the rules the server enforces: unique lists, IANA time zones, YYYY-MM-DD days', () => {
    const tools =
      doc.paths['/v1/agents']?.post.requestBody.content['application/json'].schema.properties.tools;
    expect(tools.uniqueItems).toBe(true);
    const memory = doc.paths['/v1/agents/{id}/memories']?.post.requestBody.content['application/json'].schema;
    expect(memory.properties.tags.uniqueItems).toBe(true);
    const search =
      doc.paths['/v1/agents/{id}/memories/search']?.post.requestBody.content['application/json'].schema;
    expect(search.properties.types.uniqueItems).toBe(true);
    expect(successSchemaOf('/v1/agents/{id}', 'get').properties.createdAt.format).toBe('date-time');
    expect(itemSchemaOf('/v1/audit').properties.at.format).toBe('date-time');
    const location = doc.paths['/v1/locations']?.post.requestBody.content['application/json'].schema;
    expect(location.properties.timezone.description).toMatch(/IANA time zone/);
    expect(parameterOf('/v1/tokens/usage', 'get', 'from').schema).toMatchObject({
      format: 'date',
      pattern: '^\\d{4}-\\d{2}-\\d{2}$',
    });
  });

  it('derives a route’s errors from its shape and adds those it declares', () => {
    const spec = ROUTES['POST /v1/agents/{id}/execute'] as RouteSpec;
    const errors = documentedErrors(spec);
    expect([...errors.keys()].sort()).toEqual([400, 401, 402, 403, 404, 409, 413, 415, 429, 503]);
    expect(errors.get(409)).toMatch(/Idempotency-Key.*; or: The agent is not active/);
    expect(documentedErrors({ ...spec, errors: { 429: 'Too many turns' } }).get(429)).toMatch(
      /; or: Too many turns$/,
    );
    expect(
      documentedErrors({ ...spec, rateLimited: false, errors: { 429: 'Too many turns' } }).get(429),
    ).toBe('Too many turns');
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
