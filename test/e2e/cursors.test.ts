/**
 * Listing cursors are signed and bound to their listing (tenant, listing, filters, order): any
 * other cursor is a 400 naming `query.cursor`, on every listing, and never a 500.
 */
import { ROUTES, type RouteSpec } from '../../lambdas/http/route-table';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let other: Awaited<ReturnType<typeof registerTenant>>;
let agentId: string;
let conversationId: string;

/** Every listing in the route table: the routes whose query takes a cursor. */
const LISTINGS = Object.entries(ROUTES as Record<string, RouteSpec>)
  .filter(([, spec]) => {
    const shape = (spec.query?.() as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)
      ?._zod?.def?.shape;
    return shape !== undefined && 'cursor' in shape;
  })
  .map(([key]) => key);

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api);
  other = await registerTenant(api);
  await topUp(api, owner.token, 1000);
  for (const name of ['Alpha', 'Bravo', 'Charlie']) {
    const created = await api.request('POST', '/v1/agents', { token: owner.token, body: agentBody(name) });
    agentId = created.body.id;
  }
  await api.request('POST', `/v1/agents/${agentId}/start`, { token: owner.token });
  const chat = await api.request('POST', `/v1/agents/${agentId}/chat`, {
    token: owner.token,
    body: { message: 'hello' },
  });
  conversationId = chat.body.conversationId;
});
afterAll(() => api.platform.stop());

const pathOf = (key: string) =>
  (key.split(' ')[1] as string).replace(
    '{id}',
    key.includes('/conversations/{id}') ? conversationId : agentId,
  );
const list = (path: string, cursor: string, token = owner.token) =>
  api.request('GET', `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`, {
    token,
  });

function expectRefused(response: { status: number; body: any }) {
  expect(response.status).toBe(400);
  expect(response.body.error.details.issues).toEqual([
    { field: 'query.cursor', message: 'is not a cursor returned by this listing' },
  ]);
}

it('covers every listing of the route table', () => {
  expect(LISTINGS).toEqual(expect.arrayContaining(['GET /v1/agents', 'GET /v1/users', 'GET /v1/audit']));
  expect(LISTINGS.length).toBeGreaterThanOrEqual(14);
});

describe.each(LISTINGS)('%s', (key) => {
  it('refuses made-up, unsigned and forged cursors with a 400 naming query.cursor', async () => {
    const path = pathOf(key);
    // An unsigned cursor in the old format, scoped right (where the scope is easy to guess), with
    // a start key DynamoDB refuses: before signing, a 500.
    const scopes: Record<string, string> = {
      'GET /v1/users': `users:${owner.tenantId}`,
      'GET /v1/locations': `locations:${owner.tenantId}`,
      'GET /v1/agents': JSON.stringify(['agents', owner.tenantId, 'createdAt', 'desc', null, null, null]),
    };
    const scope = scopes[key] ?? `users:${owner.tenantId}`;
    const forged = Buffer.from(JSON.stringify({ s: scope, k: { pk: 1 } })).toString('base64url');
    for (const cursor of ['abc', 'a.b', forged, `${forged}.${'A'.repeat(43)}`]) {
      expectRefused(await list(path, cursor));
    }
  });
});

describe('a cursor this platform issued', () => {
  let cursor: string;

  beforeAll(async () => {
    const first = await api.request('GET', '/v1/agents?limit=1', { token: owner.token });
    expect(first.status).toBe(200);
    cursor = first.body.nextCursor;
    expect(cursor).toEqual(expect.any(String));
  });

  it('reads the next page of its listing', async () => {
    const second = await list('/v1/agents?limit=1', cursor);
    expect(second.status).toBe(200);
    expect(second.body.items).toHaveLength(1);
  });

  it('is refused tampered with, truncated or extended', async () => {
    const [payload, signature] = cursor.split('.') as [string, string];
    const flipped = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
    for (const bad of [
      `${flipped(payload, 3)}.${signature}`,
      `${payload}.${flipped(signature, 5)}`,
      cursor.slice(0, -1),
      cursor.slice(0, cursor.length / 2),
      `${cursor}A`,
    ]) {
      expectRefused(await list('/v1/agents?limit=1', bad));
    }
  });

  it('is refused by another listing, another filter or order, and another tenant', async () => {
    expectRefused(await list('/v1/agents?limit=1&status=draft', cursor));
    expectRefused(await list('/v1/agents?limit=1&order=asc', cursor));
    expectRefused(await list('/v1/users?limit=1', cursor));
    expectRefused(await list('/v1/locations?limit=1', cursor));
    expectRefused(await list('/v1/agents?limit=1', cursor, other.token));
  });
});
