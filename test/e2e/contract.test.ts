/**
 * The harness that keeps the OpenAPI document exact (test/support/contract.ts): every answer the
 * e2e suites receive is checked against it. Here: that it reports each kind of drift, on real
 * answers from local mode checked against a document that has drifted from them, and that the e2e
 * client cannot skip it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '../../lambdas/http/openapi';
import { type ApiClient, type ApiResponse, agentBody, registerTenant, startApi, topUp } from '../support/api';
import { apiContract, Contract, ContractViolation, type Exchange } from '../support/contract';

let api: ApiClient;
let token: string;
let agentId: string;

beforeAll(async () => {
  api = await startApi();
  ({ token } = await registerTenant(api));
  agentId = (await api.request('POST', '/v1/agents', { token, body: agentBody('Contract') })).body.id;
});
afterAll(() => api.platform.stop());

/** The document the harness checks against, to be made to drift. */
const documentCopy = (): any => structuredClone(buildOpenApiDocument(undefined, { includeLocalOnly: true }));

const exchangeOf = (
  method: string,
  path: string,
  response: ApiResponse,
  requestHeaders: Record<string, string> = {},
): Exchange => ({ method, path, requestHeaders, ...response });

function violationOf(check: () => void): ContractViolation {
  try {
    check();
  } catch (error) {
    if (error instanceof ContractViolation) return error;
    throw error;
  }
  throw new Error('expected a ContractViolation, the harness accepted the answer');
}

describe('the contract harness reports drift', () => {
  it('a field the document leaves out, naming the operation, the status and the field', async () => {
    const path = `/v1/agents/${agentId}`;
    const response = await api.request('GET', path, { token });
    expect(response.body.tenantId).toBeDefined();
    const drifted = documentCopy();
    const schema = drifted.paths['/v1/agents/{id}'].get.responses['200'].content['application/json'].schema;
    delete schema.properties.tenantId;
    schema.required = schema.required.filter((name: string) => name !== 'tenantId');

    const violation = violationOf(() => new Contract(drifted).check(exchangeOf('GET', path, response)));
    expect(violation.operation).toBe('GET /v1/agents/{id}');
    expect(violation.status).toBe(200);
    expect(violation.message).toMatch(/GET \/v1\/agents\/\{id\} → 200/);
    expect(violation.problems).toEqual(["(body) must NOT have additional properties 'tenantId'"]);
  });

  it('a field of the wrong type', async () => {
    const response = await api.request('GET', `/v1/agents/${agentId}`, { token });
    const drifted = documentCopy();
    const schema = drifted.paths['/v1/agents/{id}'].get.responses['200'].content['application/json'].schema;
    schema.properties.version = { type: 'string' };
    const violation = violationOf(() =>
      new Contract(drifted).check(exchangeOf('GET', `/v1/agents/${agentId}`, response)),
    );
    expect(violation.problems).toEqual(['/version must be string']);
  });

  it('a status the operation does not document', async () => {
    // Pausing a draft agent is refused: a real 409, which the document lists for lifecycle moves.
    const response = await api.request('POST', `/v1/agents/${agentId}/pause`, { token });
    expect(response.status).toBe(409);
    const drifted = documentCopy();
    delete drifted.paths['/v1/agents/{id}/pause'].post.responses['409'];
    const violation = violationOf(() =>
      new Contract(drifted).check(exchangeOf('POST', `/v1/agents/${agentId}/pause`, response)),
    );
    expect(violation.operation).toBe('POST /v1/agents/{id}/pause');
    expect(violation.problems[0]).toMatch(/^status 409 is not documented \(documented: 200, 400, /);
  });

  it('an error body that is not the shared error shape', async () => {
    const response = await api.request('POST', `/v1/agents/${agentId}/pause`, { token });
    const forged: ApiResponse = { ...response, text: JSON.stringify({ message: 'Conflict' }) };
    const violation = violationOf(() =>
      apiContract().check(exchangeOf('POST', `/v1/agents/${agentId}/pause`, forged)),
    );
    expect(violation.problems).toEqual(
      expect.arrayContaining(["(body) must have required property 'error'"]),
    );
  });

  it('a request no operation matches', async () => {
    const response = await api.requestUndocumented('probing the harness', 'GET', '/v1/agents/x/y/z', {
      token,
    });
    const violation = violationOf(() => apiContract().check(exchangeOf('GET', '/v1/agents/x/y/z', response)));
    expect(violation.problems).toEqual(['no operation in the document matches this request']);
  });

  it('a header the document requires on the answer (Retry-After on a 503)', () => {
    const busy: ApiResponse = {
      status: 503,
      headers: new Headers({ 'content-type': 'application/json' }),
      body: undefined,
      text: JSON.stringify({ error: { code: 'BALANCE_BUSY', message: 'busy' } }),
    };
    const violation = violationOf(() =>
      apiContract().check(exchangeOf('POST', `/v1/agents/${agentId}/chat`, busy)),
    );
    expect(violation.problems).toEqual(['required header Retry-After is missing']);
  });

  it('a body, or a media type, the document does not describe', () => {
    const deleted = (text: string, contentType: string): ApiResponse => ({
      status: 204,
      headers: new Headers({ 'content-type': contentType }),
      body: undefined,
      text,
    });
    expect(
      violationOf(() =>
        apiContract().check(
          exchangeOf('DELETE', `/v1/agents/${agentId}`, deleted('{"ok":true}', 'application/json')),
        ),
      ).problems,
    ).toEqual(['a body is not documented, got: {"ok":true}']);
    const csv: ApiResponse = { ...deleted('a,b', 'text/csv'), status: 200 };
    expect(
      violationOf(() => apiContract().check(exchangeOf('GET', `/v1/agents/${agentId}`, csv))).problems,
    ).toEqual(['content type text/csv is not documented (application/json)']);
  });

  it('a request the server accepted without a header the document says is required', async () => {
    await topUp(api, token, 100);
    const started = await api.request('POST', `/v1/agents/${agentId}/start`, { token });
    expect(started.status).toBe(200);
    const response = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token,
      body: { message: 'hi' },
    });
    expect(response.status).toBe(200);
    const drifted = documentCopy();
    const idempotency = drifted.paths['/v1/agents/{id}/chat'].post.parameters.find(
      (parameter: { name: string }) => parameter.name === 'Idempotency-Key',
    );
    idempotency.required = true;
    const violation = violationOf(() =>
      new Contract(drifted).check(exchangeOf('POST', `/v1/agents/${agentId}/chat`, response)),
    );
    expect(violation.problems).toEqual([
      'accepted without the header Idempotency-Key, which the document says is required',
    ]);
  });
});

describe('the e2e client', () => {
  it('checks every answer: a drifted answer fails the request that received it', async () => {
    const contract = apiContract();
    const check = jest.spyOn(contract, 'check');
    try {
      await api.request('GET', '/v1/health');
      await api.request('GET', '/v1/agents/agt_01ARZ3NDEKTSV4RRFFQ69G5FAV', { token });
      expect(check).toHaveBeenCalledTimes(2);
      expect(check.mock.calls[1]?.[0]).toMatchObject({ method: 'GET', status: 404 });

      check.mockImplementationOnce(() => {
        throw new ContractViolation('GET /v1/health', 200, ['drifted']);
      });
      await expect(api.request('GET', '/v1/health')).rejects.toThrow(ContractViolation);
    } finally {
      check.mockRestore();
    }
  });

  it('is the only way the e2e suites speak HTTP (no suite sends a request around it)', () => {
    // HTTP clients only: a suite may serve HTTP (a fake model provider, say), not call the API around the client.
    const around =
      /\bfetch\(|\bhttps?\.(request|get)\(|import\s*\{[^}]*\b(request|get)\b[^}]*\}\s*from\s*['"]node:https?['"]|['"](undici|axios|got|supertest)['"]/;
    const suites = readdirSync(__dirname).filter((name) => name.endsWith('.ts'));
    expect(suites.length).toBeGreaterThan(5);
    // Suites that must put bytes on the wire no well-formed client sends, each with why.
    const rawWire: Record<string, string> = {
      'local-gateway.test.ts':
        'sends requests the gateway must refuse before any route (broken percent-escapes, an oversize body on a kept-alive socket)',
    };
    const offenders = suites.filter(
      (name) => !(name in rawWire) && around.test(readFileSync(join(__dirname, name), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('leaves unchecked only requests to operations the API does not have, and only with a reason', async () => {
    await expect(
      api.requestUndocumented('skip the check', 'GET', `/v1/agents/${agentId}`, { token }),
    ).rejects.toThrow(/GET \/v1\/agents\/\{id\} is documented; use request/);
    await expect(api.requestUndocumented(' ', 'GET', '/v1/nowhere', { token })).rejects.toThrow(/say why/);
    const unknown = await api.requestUndocumented('the gateway’s own 404', 'GET', '/v1/nowhere', { token });
    expect(unknown.status).toBe(404);
  });

  it('checks the document itself as served, with the server it is served from', async () => {
    const served = await api.request('GET', '/v1/openapi.json');
    expect(served.status).toBe(200);
    expect(served.body.servers).toEqual([{ url: expect.stringMatching(/^http:\/\//) }]);
    expect(Object.keys(served.body.paths).sort()).toEqual(
      Object.keys((buildOpenApiDocument() as any).paths).sort(),
    );
  });

  it('checks local-only routes against their route-table schemas, though the served document leaves them out', async () => {
    const served = buildOpenApiDocument() as { paths: Record<string, unknown> };
    expect(served.paths['/v1/dev/outbox']).toBeUndefined();
    expect(apiContract().operationKeyFor('GET', '/v1/dev/outbox?kind=sms')).toBe('GET /v1/dev/outbox');
    const outbox = await api.request('GET', '/v1/dev/outbox', { token });
    expect(outbox.status).toBe(200);
  });
});

// Last: compiling every schema takes a while, and no request follows it on an idle keep-alive socket.
describe('the document', () => {
  it('compiles, every response schema of it, under strict ajv with the formats it uses', () => {
    expect(new Contract(documentCopy()).compileAll()).toBeGreaterThan(150);
  });
});
