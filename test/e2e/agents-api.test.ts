import { type ApiClient, agentBody, registerTenant, startApi, userWithRole } from '../support/api';

let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api);
});
afterAll(() => api.platform.stop());

const create = async (body: object) => api.request('POST', '/v1/agents', { token: owner.token, body });

describe('agent CRUD', () => {
  it('creates a draft with defaults filled in and returns it with an ETag', async () => {
    const response = await create({
      ...agentBody('Reception'),
      instructions: 'Greet patients and book cleanings.',
      personality: { traits: ['warm', 'concise'], tone: 'friendly' },
      businessProfile: {
        name: 'Smile Dental',
        phone: '+14155550100',
        hours: [{ day: 'mon', opens: '09:00', closes: '17:00' }],
      },
      tools: ['calculator', 'book_appointment'],
      channels: [{ type: 'sms' }],
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      name: 'Reception',
      status: 'draft',
      version: 1,
      tenantId: owner.tenantId,
      createdBy: owner.ownerId,
      model: { provider: 'scripted', modelId: 'scripted-v1', temperature: 0.7, maxTokens: 1024, topP: 1 },
      channels: [{ type: 'sms', enabled: true }],
      memory: { enabled: true },
    });
    expect(response.body.id).toMatch(/^agt_/);
    expect(response.headers.get('etag')).toBe('"1"');
    const fetched = await api.request('GET', `/v1/agents/${response.body.id}`, { token: owner.token });
    expect(fetched.body).toEqual(response.body);
  });

  it('updates by patch, keeps every previous configuration as a version, and rolls back', async () => {
    const { body: agent } = await create({
      ...agentBody('Versioned'),
      tools: ['calculator'],
      channels: [{ type: 'web' }],
    });
    const v2 = await api.request('PATCH', `/v1/agents/${agent.id}`, {
      token: owner.token,
      body: { instructions: 'Version two', description: 'second' },
    });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ version: 2, instructions: 'Version two', description: 'second' });
    // Fields the patch does not name stay as they were.
    expect(v2.body).toMatchObject({
      tools: ['calculator'],
      channels: [{ type: 'web', enabled: true }],
      model: agent.model,
    });
    const v3 = await api.request('PATCH', `/v1/agents/${agent.id}`, {
      token: owner.token,
      body: { description: null, name: 'Versioned three' },
      headers: { 'if-match': '"2"' },
    });
    expect(v3.body).toMatchObject({ version: 3, name: 'Versioned three' });
    expect(v3.body.description).toBeUndefined();

    const versions = await api.request('GET', `/v1/agents/${agent.id}/versions`, { token: owner.token });
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(versions.body.items[2]).toMatchObject({ reason: 'created', config: { instructions: '' } });

    const rolledBack = await api.request('POST', `/v1/agents/${agent.id}/versions/1/rollback`, {
      token: owner.token,
    });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).toMatchObject({ version: 4, name: 'Versioned', instructions: '' });
    const v4 = await api.request('GET', `/v1/agents/${agent.id}/versions/4`, { token: owner.token });
    expect(v4.body).toMatchObject({ reason: 'rolled back to 1', createdBy: owner.ownerId });
    const missing = await api.request('POST', `/v1/agents/${agent.id}/versions/99/rollback`, {
      token: owner.token,
    });
    expect(missing.status).toBe(404);
  });

  it('refuses a stale If-Match with 409 and changes nothing', async () => {
    const { body: agent } = await create(agentBody('Guarded'));
    await api.request('PATCH', `/v1/agents/${agent.id}`, {
      token: owner.token,
      body: { instructions: 'first' },
    });
    const stale = await api.request('PATCH', `/v1/agents/${agent.id}`, {
      token: owner.token,
      body: { instructions: 'stale' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.details).toEqual({ currentVersion: 2 });
    const current = await api.request('GET', `/v1/agents/${agent.id}`, { token: owner.token });
    expect(current.body).toMatchObject({ version: 2, instructions: 'first' });
  });

  it('lets exactly one of many concurrent updates win; the rest get 409 and nothing is lost', async () => {
    const { body: agent } = await create(agentBody('Contended'));
    const writers = Array.from({ length: 8 }, (_, i) =>
      api.request('PATCH', `/v1/agents/${agent.id}`, {
        token: owner.token,
        body: { instructions: `writer ${i}` },
        headers: { 'if-match': '"1"' },
      }),
    );
    const results = await Promise.all(writers);
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    const current = await api.request('GET', `/v1/agents/${agent.id}`, { token: owner.token });
    expect(current.body).toMatchObject({ version: 2, instructions: winners[0]?.body.instructions });
    const versions = await api.request('GET', `/v1/agents/${agent.id}/versions`, { token: owner.token });
    expect(versions.body.items).toHaveLength(2);
  });

  it('lets exactly one of concurrent read-modify-write updates without If-Match win', async () => {
    const { body: agent } = await create(agentBody('Racing'));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api.request('PATCH', `/v1/agents/${agent.id}`, {
          token: owner.token,
          body: { description: `racer ${i}` },
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const current = await api.request('GET', `/v1/agents/${agent.id}`, { token: owner.token });
    // Every successful write produced its own version: none overwrote another unseen.
    expect(current.body.version).toBe(1 + ok.length);
  });

  it('clones into a new draft without channel addresses, and soft-deletes', async () => {
    const { body: source } = await create(agentBody('Original'));
    const channel = await api.request('PUT', `/v1/agents/${source.id}/channels/sms`, {
      token: owner.token,
      body: { address: '+14155550111', credentials: { accountSid: 'AC123', authToken: 'clone-test-token' } },
    });
    expect(channel.status).toBe(200);
    await api.request('POST', `/v1/agents/${source.id}/start`, { token: owner.token });
    const clone = await api.request('POST', `/v1/agents/${source.id}/clone`, {
      token: owner.token,
      body: {},
    });
    expect(clone.status).toBe(201);
    expect(clone.body).toMatchObject({
      name: 'Original (copy)',
      status: 'draft',
      version: 1,
      channels: [{ type: 'sms', enabled: true }],
    });
    expect(clone.body.channels[0].address).toBeUndefined();
    expect(clone.body.id).not.toBe(source.id);
    const named = await api.request('POST', `/v1/agents/${source.id}/clone`, { token: owner.token });
    expect(named.status).toBe(201);

    expect((await api.request('DELETE', `/v1/agents/${source.id}`, { token: owner.token })).status).toBe(204);
    expect((await api.request('GET', `/v1/agents/${source.id}`, { token: owner.token })).status).toBe(404);
    expect((await api.request('DELETE', `/v1/agents/${source.id}`, { token: owner.token })).status).toBe(404);
    expect(
      (await api.request('PATCH', `/v1/agents/${source.id}`, { token: owner.token, body: { name: 'x' } }))
        .status,
    ).toBe(404);
    const list = await api.request('GET', '/v1/agents?limit=100', { token: owner.token });
    expect(list.body.items.map((a: { id: string }) => a.id)).not.toContain(source.id);
  });

  it('reports zeroed stats until executions exist', async () => {
    const { body: agent } = await create(agentBody('Stats'));
    const stats = await api.request('GET', `/v1/agents/${agent.id}/stats`, { token: owner.token });
    expect(stats.body).toEqual({
      executions: 0,
      succeeded: 0,
      failed: 0,
      successRate: 0,
      avgTokens: 0,
      avgCostUsd: 0,
      avgLatencyMs: 0,
      feedback: { up: 0, down: 0 },
    });
  });
});

describe('agent lifecycle', () => {
  it('walks draft → active ⇄ paused → stopped and refuses illegal moves with the reason', async () => {
    const { body: agent } = await create(agentBody('Lifecycle'));
    const call = (command: string) =>
      api.request('POST', `/v1/agents/${agent.id}/${command}`, { token: owner.token });
    expect((await call('pause')).body.error.message).toBe(
      'Cannot pause an agent that is draft; pause is allowed from active',
    );
    expect((await call('start')).body.status).toBe('active');
    expect((await call('start')).status).toBe(409);
    expect((await call('pause')).body.status).toBe('paused');
    expect((await call('resume')).body.status).toBe('active');
    expect((await call('stop')).body.status).toBe('stopped');
    expect((await call('resume')).status).toBe(409);
    const restarted = await call('start');
    expect(restarted.body).toMatchObject({ status: 'active', version: 1 });
  });

  it('lets a coordinator operate but not edit', async () => {
    const coordinator = await userWithRole(api, owner.token, 'coordinator');
    const { body: agent } = await create(agentBody('Operated'));
    const started = await api.request('POST', `/v1/agents/${agent.id}/start`, { token: coordinator.token });
    expect(started.body).toMatchObject({ status: 'active', updatedBy: coordinator.userId });
    const edit = await api.request('PATCH', `/v1/agents/${agent.id}`, {
      token: coordinator.token,
      body: { name: 'no' },
    });
    expect(edit.status).toBe(403);
  });
});

describe('agent listing', () => {
  let tenant: Awaited<ReturnType<typeof registerTenant>>;
  const names = ['delta', 'Alpha', 'charlie', 'bravo', 'echo', 'alpine'];

  beforeAll(async () => {
    tenant = await registerTenant(api, 'Listing Co');
    for (const name of names) {
      const created = await api.request('POST', '/v1/agents', {
        token: tenant.token,
        body: {
          ...agentBody(name),
          businessType: name.startsWith('a') || name.startsWith('A') ? 'salon' : 'dental',
        },
      });
      if (name === 'charlie' || name === 'echo') {
        await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: tenant.token });
      }
    }
  });

  const list = (query: string) => api.request('GET', `/v1/agents?${query}`, { token: tenant.token });
  const namesOf = (body: { items: { name: string }[] }) => body.items.map((a) => a.name);

  it('sorts by creation, newest first by default, and oldest first on request', async () => {
    expect(namesOf((await list('')).body)).toEqual([...names].reverse());
    expect(namesOf((await list('order=asc')).body)).toEqual(names);
  });

  it('sorts by name case-insensitively and filters by name prefix', async () => {
    expect(namesOf((await list('sort=name&order=asc')).body)).toEqual([
      'Alpha',
      'alpine',
      'bravo',
      'charlie',
      'delta',
      'echo',
    ]);
    expect(namesOf((await list('sort=name&order=asc&namePrefix=AL')).body)).toEqual(['Alpha', 'alpine']);
    expect(namesOf((await list('namePrefix=al')).body)).toEqual(['alpine', 'Alpha']);
  });

  it('filters by status and business type', async () => {
    expect(namesOf((await list('status=active&order=asc')).body)).toEqual(['charlie', 'echo']);
    expect(namesOf((await list('businessType=salon&order=asc')).body)).toEqual(['Alpha', 'alpine']);
    expect(namesOf((await list('businessType=dental&status=draft&order=asc')).body)).toEqual([
      'delta',
      'bravo',
    ]);
  });

  it('pages with a cursor through every agent exactly once, filtered pages included', async () => {
    for (const query of ['limit=2', 'limit=2&sort=name', 'limit=1&status=draft']) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await list(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.status).toBe(200);
        seen.push(...namesOf(page.body));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      const expected = query.includes('status=draft') ? 4 : 6;
      expect(seen).toHaveLength(expected);
      expect(new Set(seen).size).toBe(expected);
    }
  });

  it("rejects a cursor from another listing or another tenant's listing", async () => {
    const page = await list('limit=2');
    const otherSort = await list(`limit=2&sort=name&cursor=${encodeURIComponent(page.body.nextCursor)}`);
    expect(otherSort.status).toBe(400);
    expect(otherSort.body.error.details.issues[0].field).toBe('query.cursor');
    const otherTenant = await api.request(
      'GET',
      `/v1/agents?limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`,
      {
        token: owner.token,
      },
    );
    expect(otherTenant.status).toBe(400);
    const garbage = await list('cursor=%%%not-base64');
    expect(garbage.status).toBe(400);
  });
});
