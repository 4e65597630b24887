import { type ApiClient, agentBody, registerTenant, startApi, userWithRole } from '../support/api';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;
let agentId: string;

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api);
  const agent = await api.request('POST', '/v1/agents', { token: owner.token, body: agentBody('Memorious') });
  agentId = agent.body.id;
});
afterAll(() => api.platform.stop());

const remember = (body: Record<string, unknown>, token = owner.token, agent = agentId) =>
  api.request('POST', `/v1/agents/${agent}/memories`, { token, body });
const search = (body: Record<string, unknown>, token = owner.token, agent = agentId) =>
  api.request('POST', `/v1/agents/${agent}/memories/search`, { token, body });
const CUSTOMER = 'cus_01ARZ3NDEKTSV4RRFFQ69G5FAV';

describe('memory CRUD', () => {
  it('creates a memory with defaults, returns it without its vector, and reads it back by id', async () => {
    const created = await remember({ type: 'semantic', content: 'The clinic is closed on public holidays' });
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"1"');
    expect(created.body).toMatchObject({
      agentId,
      tenantId: owner.tenantId,
      type: 'semantic',
      content: 'The clinic is closed on public holidays',
      importance: 0.5,
      effectiveImportance: 0.5,
      accessCount: 0,
      tags: [],
      version: 1,
    });
    expect(created.body.id).toMatch(/^mem_/);
    expect(created.body).not.toHaveProperty('embedding');
    expect(created.body).not.toHaveProperty('embeddingModel');
    const days = (Date.parse(created.body.expiresAt) - Date.parse(created.body.createdAt)) / 86_400_000;
    expect(Math.round(days)).toBe(365);

    const fetched = await api.request('GET', `/v1/memories/${created.body.id}`, { token: owner.token });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
  });

  it('updates with If-Match, re-embeds new content, and refuses a stale version with 409', async () => {
    const { body: memory } = await remember({ type: 'episodic', content: 'Asked about whitening prices' });
    const updated = await api.request('PUT', `/v1/memories/${memory.id}`, {
      token: owner.token,
      headers: { 'if-match': '"1"' },
      body: { content: 'Asked about braces for her son', importance: 0.9, tags: ['family'] },
    });
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).toBe('"2"');
    expect(updated.body).toMatchObject({
      version: 2,
      content: 'Asked about braces for her son',
      importance: 0.9,
      tags: ['family'],
      type: 'episodic',
    });
    const found = await search({ query: 'braces for son' });
    expect(found.body.items[0]?.id).toBe(memory.id);

    const stale = await api.request('PUT', `/v1/memories/${memory.id}`, {
      token: owner.token,
      headers: { 'if-match': '"1"' },
      body: { importance: 0.1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.details).toEqual({ currentVersion: 2 });
  });

  it('deletes a memory: gone from reads, listings and search', async () => {
    const { body: memory } = await remember({
      type: 'procedural',
      content: 'Sterilise the zebra-striped tray',
    });
    const deleted = await api.request('DELETE', `/v1/memories/${memory.id}`, { token: owner.token });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await api.request('GET', `/v1/memories/${memory.id}`, { token: owner.token })).status).toBe(404);
    expect((await api.request('DELETE', `/v1/memories/${memory.id}`, { token: owner.token })).status).toBe(
      404,
    );
    const found = await search({ query: 'zebra-striped tray', k: 50 });
    expect(found.body.items.map((m: { id: string }) => m.id)).not.toContain(memory.id);
    const listed = await api.request('GET', `/v1/agents/${agentId}/memories?limit=100`, {
      token: owner.token,
    });
    expect(listed.body.items.map((m: { id: string }) => m.id)).not.toContain(memory.id);
  });

  it('lists newest first with type and customer filters and a cursor', async () => {
    const { body: agent } = await api.request('POST', '/v1/agents', {
      token: owner.token,
      body: agentBody('Lister'),
    });
    for (const [i, type] of ['episodic', 'social', 'episodic'].entries()) {
      await remember(
        { type, content: `listed ${i}`, ...(i === 0 ? { customerId: CUSTOMER } : {}) },
        owner.token,
        agent.id,
      );
    }
    const page1 = await api.request('GET', `/v1/agents/${agent.id}/memories?limit=2`, { token: owner.token });
    expect(page1.body.items.map((m: { content: string }) => m.content)).toEqual(['listed 2', 'listed 1']);
    const page2 = await api.request(
      'GET',
      `/v1/agents/${agent.id}/memories?limit=2&cursor=${page1.body.nextCursor}`,
      {
        token: owner.token,
      },
    );
    expect(page2.body.items.map((m: { content: string }) => m.content)).toEqual(['listed 0']);
    expect(page2.body.nextCursor).toBeUndefined();
    const episodic = await api.request('GET', `/v1/agents/${agent.id}/memories?type=episodic`, {
      token: owner.token,
    });
    expect(episodic.body.items).toHaveLength(2);
    const customer = await api.request('GET', `/v1/agents/${agent.id}/memories?customerId=${CUSTOMER}`, {
      token: owner.token,
    });
    expect(customer.body.items.map((m: { content: string }) => m.content)).toEqual(['listed 0']);
  });
});

describe('memory search', () => {
  let searchAgent: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const { body: agent } = await api.request('POST', '/v1/agents', {
      token: owner.token,
      body: agentBody('Searcher'),
    });
    searchAgent = agent.id;
    const memories: [string, Record<string, unknown>][] = [
      [
        'morning',
        { type: 'social', content: 'Ana prefers morning appointments before work', customerId: CUSTOMER },
      ],
      [
        'penicillin',
        { type: 'semantic', content: 'Ana is allergic to penicillin', customerId: CUSTOMER, importance: 1 },
      ],
      ['parking', { type: 'semantic', content: 'Free parking is available behind the clinic' }],
      ['refund', { type: 'procedural', content: 'Refunds need the original receipt and manager approval' }],
      [
        'cancelled',
        {
          type: 'episodic',
          content: 'Ana cancelled her morning appointment because of traffic',
          customerId: CUSTOMER,
        },
      ],
    ];
    for (const [name, body] of memories) ids[name] = (await remember(body, owner.token, searchAgent)).body.id;
  });

  it('ranks by similarity and returns similarity, effective importance and score for each', async () => {
    const found = await search(
      { query: 'Does Ana like morning appointments?', k: 3 },
      owner.token,
      searchAgent,
    );
    expect(found.status).toBe(200);
    expect(found.body.items).toHaveLength(3);
    const [first, second] = found.body.items;
    expect([first.id, second.id].sort()).toEqual([ids.morning, ids.cancelled].sort());
    for (const item of found.body.items) {
      expect(item).toEqual(
        expect.objectContaining({
          similarity: expect.any(Number),
          effectiveImportance: expect.any(Number),
          score: expect.any(Number),
        }),
      );
      expect(item.score).toBeCloseTo(item.similarity + 0.1 * item.effectiveImportance, 5);
      expect(item).not.toHaveProperty('embedding');
    }
    const scores = found.body.items.map((i: { score: number }) => i.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(found.body.items[0].similarity).toBeGreaterThan(found.body.items[2].similarity);
  });

  it('defaults k to 5 and applies type, customer, time and minimum-similarity filters', async () => {
    const all = await search({ query: 'Ana' }, owner.token, searchAgent);
    expect(all.body.items.length).toBeLessThanOrEqual(5);
    const procedural = await search({ query: 'receipt', types: ['procedural'] }, owner.token, searchAgent);
    expect(procedural.body.items.map((m: { id: string }) => m.id)).toEqual([ids.refund]);
    const forAna = await search(
      { query: 'clinic parking appointments', k: 50, customerId: CUSTOMER },
      owner.token,
      searchAgent,
    );
    expect(forAna.body.items.map((m: { id: string }) => m.id).sort()).toEqual(
      [ids.morning, ids.penicillin, ids.cancelled].sort(),
    );
    const future = await search(
      { query: 'parking', createdAfter: new Date(Date.now() + 60_000).toISOString() },
      owner.token,
      searchAgent,
    );
    expect(future.body.items).toEqual([]);
    const past = await search(
      { query: 'parking', createdBefore: new Date(Date.now() + 60_000).toISOString(), k: 1 },
      owner.token,
      searchAgent,
    );
    expect(past.body.items.map((m: { id: string }) => m.id)).toEqual([ids.parking]);
    const strict = await search(
      { query: 'free parking behind the clinic', minSimilarity: 0.6, k: 50 },
      owner.token,
      searchAgent,
    );
    expect(strict.body.items.map((m: { id: string }) => m.id)).toEqual([ids.parking]);
  });

  it('counts a recall of each memory it returns', async () => {
    const before = await api.request('GET', `/v1/memories/${ids.penicillin}`, { token: owner.token });
    await search({ query: 'allergic to penicillin', k: 1 }, owner.token, searchAgent);
    const after = await api.request('GET', `/v1/memories/${ids.penicillin}`, { token: owner.token });
    expect(after.body.accessCount).toBe(before.body.accessCount + 1);
    expect(after.body.lastAccessedAt).toBeDefined();
    expect(after.body.version).toBe(before.body.version);
  });

  it('lets a member search and read but not write', async () => {
    const member = await userWithRole(api, owner.token, 'member');
    expect((await search({ query: 'parking' }, member.token, searchAgent)).status).toBe(200);
    expect((await api.request('GET', `/v1/memories/${ids.parking}`, { token: member.token })).status).toBe(
      200,
    );
    expect((await remember({ type: 'semantic', content: 'x' }, member.token, searchAgent)).status).toBe(403);
    const put = await api.request('PUT', `/v1/memories/${ids.parking}`, {
      token: member.token,
      body: { importance: 1 },
    });
    expect(put.status).toBe(403);
  });
});

describe('memory isolation over HTTP', () => {
  it("answers 404 for another tenant's agent and memory ids, and leaves them untouched", async () => {
    const other = await registerTenant(api, 'Other tenant');
    const { body: secret } = await remember({
      type: 'semantic',
      content: 'The safe combination is 12-34-56',
    });
    const attempts = [
      api.request('GET', `/v1/agents/${agentId}/memories`, { token: other.token }),
      remember({ type: 'semantic', content: 'planted' }, other.token),
      search({ query: 'safe combination' }, other.token),
      api.request('GET', `/v1/memories/${secret.id}`, { token: other.token }),
      api.request('PUT', `/v1/memories/${secret.id}`, { token: other.token, body: { content: 'changed' } }),
      api.request('DELETE', `/v1/memories/${secret.id}`, { token: other.token }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.status).toBe(404);
      expect(response.text).not.toContain('12-34-56');
      expect(response.text).not.toContain(owner.tenantId);
    }
    const intact = await api.request('GET', `/v1/memories/${secret.id}`, { token: owner.token });
    expect(intact.body).toMatchObject({ content: 'The safe combination is 12-34-56', version: 1 });
    // The other tenant's own agent sees nothing of it either.
    const { body: theirs } = await api.request('POST', '/v1/agents', {
      token: other.token,
      body: agentBody('Theirs'),
    });
    const found = await search({ query: 'safe combination', k: 50 }, other.token, theirs.id);
    expect(found.status).toBe(200);
    expect(found.body.items).toEqual([]);
  });

  it('answers 404 for a deleted agent’s memories', async () => {
    const { body: agent } = await api.request('POST', '/v1/agents', {
      token: owner.token,
      body: agentBody('Doomed'),
    });
    const { body: memory } = await remember(
      { type: 'semantic', content: 'Soon unreachable' },
      owner.token,
      agent.id,
    );
    await api.request('DELETE', `/v1/agents/${agent.id}`, { token: owner.token });
    expect((await api.request('GET', `/v1/memories/${memory.id}`, { token: owner.token })).status).toBe(404);
    expect((await search({ query: 'unreachable' }, owner.token, agent.id)).status).toBe(404);
  });
});

describe('memory input validation', () => {
  const issues = (response: { body: { error: { details?: { issues: { field: string }[] } } } }) =>
    (response.body.error.details?.issues ?? []).map((i) => i.field);

  it('names each bad field of a create', async () => {
    const response = await remember({
      type: 'dream',
      content: '',
      importance: 2,
      tags: ['a', 'a'],
      colour: 'red',
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(issues(response)).toEqual(
      expect.arrayContaining(['body.type', 'body.content', 'body.importance', 'body.tags', 'body.colour']),
    );
  });

  it('refuses content over 4000 characters', async () => {
    const response = await remember({ type: 'semantic', content: 'x'.repeat(4001) });
    expect(response.status).toBe(400);
    expect(issues(response)).toEqual(['body.content']);
  });

  it('names each bad field of a search, including a time window that ends before it starts', async () => {
    const bad = await search({ query: '', k: 51, types: ['nope'], minSimilarity: 2, customerId: 'someone' });
    expect(bad.status).toBe(400);
    expect(issues(bad)).toEqual(
      expect.arrayContaining([
        'body.query',
        'body.k',
        'body.types.0',
        'body.minSimilarity',
        'body.customerId',
      ]),
    );
    const window = await search({
      query: 'x',
      createdAfter: '2026-02-01T00:00:00Z',
      createdBefore: '2026-01-01T00:00:00Z',
    });
    expect(window.status).toBe(400);
    expect(issues(window)).toEqual(['body.createdBefore']);
    const notATime = await search({ query: 'x', createdAfter: 'yesterday' });
    expect(issues(notATime)).toEqual(['body.createdAfter']);
  });

  it('refuses an empty update, a bad memory id and a bad list filter', async () => {
    const { body: memory } = await remember({ type: 'semantic', content: 'valid' });
    const empty = await api.request('PUT', `/v1/memories/${memory.id}`, { token: owner.token, body: {} });
    expect(empty.status).toBe(400);
    const badId = await api.request('GET', '/v1/memories/agt_01ARZ3NDEKTSV4RRFFQ69G5FAV', {
      token: owner.token,
    });
    expect(badId.status).toBe(400);
    expect(issues(badId)).toEqual(['path.id']);
    const badFilter = await api.request('GET', `/v1/agents/${agentId}/memories?type=dream&limit=0`, {
      token: owner.token,
    });
    expect(issues(badFilter).sort()).toEqual(['query.limit', 'query.type']);
    const unknown = await api.request('GET', '/v1/memories/mem_01ARZ3NDEKTSV4RRFFQ69G5FAV', {
      token: owner.token,
    });
    expect(unknown.status).toBe(404);
  });
});
