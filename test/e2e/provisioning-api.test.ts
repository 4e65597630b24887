/**
 * Provisioning over HTTP in local mode: the provision-agent ASL file runs in-process against the
 * local Connect, Twilio, Telegram, Slack, Meta and SES stand-ins; every answer is checked against
 * the OpenAPI document (test/support/api.ts).
 */
import { localProvisioningProviders } from '../../local/provisioning-providers';
import { localProvisioningWorkflow } from '../../local/provisioning-workflow';
import { type ApiClient, agentBody, registerTenant, startApi } from '../support/api';

let api: ApiClient;
let owner: { tenantId: string; token: string };

beforeAll(async () => {
  api = await startApi();
  owner = await registerTenant(api, 'Provisioned');
}, 60_000);

afterAll(async () => {
  await api.platform.stop();
});

const provision = (body: unknown, headers: Record<string, string> = {}) =>
  api.request('POST', '/v1/agents/provision', { token: owner.token, body, headers });

async function settled(provisioningId: string, token = owner.token) {
  await localProvisioningWorkflow().idle();
  const response = await api.request('GET', `/v1/provisioning/${provisioningId}`, { token });
  expect(response.status).toBe(200);
  return response.body;
}

const voiceSmsTelegram = (sms: string) => ({
  agent: agentBody('Front desk'),
  channels: [
    { type: 'voice', phoneNumber: { countryCode: 'US', type: 'DID' } },
    { type: 'sms', address: sms, credentials: { accountSid: 'ACe2e', authToken: 'e2e-sms-token' } },
    { type: 'telegram', credentials: { botToken: '42:e2e-bot-token' } },
  ],
});

describe('POST /v1/agents/provision', () => {
  it('202, then every step done and the agent active on voice, SMS and Telegram', async () => {
    const started = await provision(voiceSmsTelegram('+14155550301'));
    expect(started.status).toBe(202);
    expect(started.body).toEqual({
      provisioningId: expect.stringMatching(/^prv_/),
      agentId: expect.stringMatching(/^agt_/),
      status: 'running',
    });
    const record = await settled(started.body.provisioningId);
    expect(record.status).toBe('succeeded');
    expect(record.leftBehind).toEqual([]);
    expect(record.steps.every((s: { status: string }) => s.status === 'done')).toBe(true);
    const claimed = record.steps.find((s: { key: string }) => s.key === 'voice:claim-number');
    expect(claimed.created.phoneNumber).toMatch(/^\+1555010\d{4}$/);
    expect(record.channels).toEqual([
      { type: 'voice' },
      { type: 'sms', address: '+14155550301' },
      { type: 'telegram' },
    ]);

    const agent = await api.request('GET', `/v1/agents/${started.body.agentId}`, { token: owner.token });
    expect(agent.body.status).toBe('active');
    expect(agent.body.channels).toEqual(
      expect.arrayContaining([
        { type: 'voice', enabled: true, address: claimed.created.phoneNumber },
        expect.objectContaining({ type: 'sms', address: '+14155550301' }),
      ]),
    );
    const channels = await api.request('GET', `/v1/agents/${started.body.agentId}/channels`, {
      token: owner.token,
    });
    expect(channels.body.items.map((c: { type: string }) => c.type).sort()).toEqual(['sms', 'telegram']);
    // No credential anywhere in what the API shows.
    expect(JSON.stringify(record)).not.toMatch(/e2e-sms-token|e2e-bot-token/);
  });

  it('a failing step is undone in reverse and the agent goes to error with the reason', async () => {
    const started = await provision({
      ...voiceSmsTelegram('+14155550302'),
      simulate: { failStep: 'sms:point-webhooks' },
    });
    expect(started.status).toBe(202);
    const record = await settled(started.body.provisioningId);
    expect(record.status).toBe('failed');
    expect(record.failure).toEqual({
      step: 'sms:point-webhooks',
      reason: expect.stringContaining('simulated failure'),
    });
    const statuses = Object.fromEntries(
      record.steps.map((s: { key: string; status: string }) => [s.key, s.status]),
    );
    expect(statuses).toMatchObject({
      'agent:create-agent': 'done',
      'voice:claim-number': 'compensated',
      'voice:create-flow': 'compensated',
      'voice:associate-flow': 'compensated',
      'voice:configure-channel': 'compensated',
      'sms:check-credentials': 'done',
      'sms:point-webhooks': 'failed',
      'telegram:configure-channel': 'pending',
    });
    const agent = await api.request('GET', `/v1/agents/${started.body.agentId}`, { token: owner.token });
    expect(agent.body.status).toBe('error');
    expect(agent.body.statusReason).toContain('sms:point-webhooks');
    expect(agent.body.channels).toEqual([]);
  });

  it('refuses bad channels with 400 naming the field', async () => {
    const noAddress = await provision({
      agent: agentBody('X'),
      channels: [{ type: 'sms', credentials: { accountSid: 'AC1', authToken: 't' } }],
    });
    expect(noAddress.status).toBe(400);
    expect(noAddress.body.error.details.issues[0].field).toBe('body.channels.0.address');
    const noCredentials = await provision({ agent: agentBody('X'), channels: [{ type: 'telegram' }] });
    expect(noCredentials.status).toBe(400);
    expect(noCredentials.body.error.details.issues[0].field).toBe('body.channels.0.credentials');
    const twice = await provision({
      agent: agentBody('X'),
      channels: [{ type: 'voice' }, { type: 'voice' }],
    });
    expect(twice.status).toBe(400);
  });

  it('the same Idempotency-Key answers the same provisioning; with another request, 409', async () => {
    const body = voiceSmsTelegram('+14155550303');
    const first = await provision(body, { 'idempotency-key': 'prov-e2e-1' });
    const again = await provision(body, { 'idempotency-key': 'prov-e2e-1' });
    expect(again.status).toBe(202);
    expect(again.body.provisioningId).toBe(first.body.provisioningId);
    const other = await provision(
      { ...body, agent: agentBody('Other') },
      { 'idempotency-key': 'prov-e2e-1' },
    );
    expect(other.status).toBe(409);
    await settled(first.body.provisioningId);
  });

  it("another tenant's provisioning is 404", async () => {
    const started = await provision({ agent: agentBody('Mine'), channels: [{ type: 'voice' }] });
    const stranger = await registerTenant(api, 'Stranger');
    const response = await api.request('GET', `/v1/provisioning/${started.body.provisioningId}`, {
      token: stranger.token,
    });
    expect(response.status).toBe(404);
    await settled(started.body.provisioningId);
  });
});

describe('POST /v1/agents/{id}/channels/{type}/provision', () => {
  it('adds voice to a draft agent through the same workflow; the agent becomes active', async () => {
    const created = await api.request('POST', '/v1/agents', {
      token: owner.token,
      body: agentBody('Later voice'),
    });
    const started = await api.request('POST', `/v1/agents/${created.body.id}/channels/voice/provision`, {
      token: owner.token,
      body: {},
    });
    expect(started.status).toBe(202);
    expect(started.body.agentId).toBe(created.body.id);
    const record = await settled(started.body.provisioningId);
    expect(record.kind).toBe('channel');
    expect(record.status).toBe('succeeded');
    expect(record.steps.map((s: { key: string }) => s.key)).toEqual([
      'voice:claim-number',
      'voice:create-flow',
      'voice:associate-flow',
      'voice:configure-channel',
      'agent:init-context',
      'agent:activate',
    ]);
    const agent = await api.request('GET', `/v1/agents/${created.body.id}`, { token: owner.token });
    expect(agent.body.status).toBe('active');
    const again = await api.request('POST', `/v1/agents/${created.body.id}/channels/voice/provision`, {
      token: owner.token,
      body: {},
    });
    expect(again.status).toBe(409);
  });
});

describe('deprovisioning', () => {
  it('deleting the agent releases its number, flow and webhooks; stopping keeps them', async () => {
    const started = await provision(voiceSmsTelegram('+14155550304'));
    const record = await settled(started.body.provisioningId);
    const number = record.steps.find((s: { key: string }) => s.key === 'voice:claim-number').created;
    const stand = localProvisioningProviders();
    expect(stand.claimed.has(number.phoneNumberId)).toBe(true);

    const stopped = await api.request('POST', `/v1/agents/${started.body.agentId}/stop`, {
      token: owner.token,
    });
    expect(stopped.status).toBe(200);
    expect(stand.claimed.has(number.phoneNumberId)).toBe(true);

    const deleted = await api.request('DELETE', `/v1/agents/${started.body.agentId}`, { token: owner.token });
    expect(deleted.status).toBe(204);
    expect(stand.claimed.has(number.phoneNumberId)).toBe(false);
    expect(stand.twilioNumbers.get('sms:+14155550304')).toEqual({
      inboundUrl: 'https://previous-app.example/sms',
      statusUrl: 'https://previous-app.example/status',
    });
    const after = await api.request('GET', `/v1/provisioning/${started.body.provisioningId}`, {
      token: owner.token,
    });
    expect(after.body.releasedAt).toBeDefined();
    expect(after.body.steps.find((s: { key: string }) => s.key === 'voice:claim-number').status).toBe(
      'released',
    );
  });
});

describe('GET /v1/provisioning', () => {
  it('lists the tenant’s provisionings newest first, by status and agent, a page at a time, never a credential', async () => {
    const lister = await registerTenant(api, 'Lister');
    const start = (body: unknown) =>
      api.request('POST', '/v1/agents/provision', { token: lister.token, body });
    const empty = await api.request('GET', '/v1/provisioning', { token: lister.token });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ items: [] });

    const good = await start(voiceSmsTelegram('+14155550311'));
    await settled(good.body.provisioningId, lister.token);
    const bad = await start({
      ...voiceSmsTelegram('+14155550312'),
      agent: agentBody('Doomed desk'),
      simulate: { failStep: 'sms:point-webhooks' },
    });
    await settled(bad.body.provisioningId, lister.token);

    const all = await api.request('GET', '/v1/provisioning', { token: lister.token });
    expect(all.status).toBe(200);
    expect(all.body.items.map((p: { id: string }) => p.id)).toEqual([
      bad.body.provisioningId,
      good.body.provisioningId,
    ]);
    const [failed, succeeded] = all.body.items;
    expect(succeeded).toEqual({
      id: good.body.provisioningId,
      agentId: good.body.agentId,
      agentName: 'Front desk',
      kind: 'agent',
      status: 'succeeded',
      channels: [{ type: 'voice' }, { type: 'sms', address: '+14155550311' }, { type: 'telegram' }],
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      undone: 0,
      leftBehind: [],
    });
    expect(Date.parse(succeeded.finishedAt)).toBeGreaterThanOrEqual(Date.parse(succeeded.startedAt));
    expect(failed).toMatchObject({
      agentName: 'Doomed desk',
      status: 'failed',
      failure: { step: 'sms:point-webhooks', reason: expect.stringContaining('simulated failure') },
      undone: 4,
      leftBehind: [],
    });
    expect(failed.steps).toBeUndefined();
    expect(all.text).not.toMatch(/e2e-sms-token|e2e-bot-token|accountSid|botToken/);

    const failedOnly = await api.request('GET', '/v1/provisioning?status=failed', { token: lister.token });
    expect(failedOnly.body.items.map((p: { id: string }) => p.id)).toEqual([bad.body.provisioningId]);
    const running = await api.request('GET', '/v1/provisioning?status=running', { token: lister.token });
    expect(running.body.items).toEqual([]);

    // One channel more for the first agent: its listing has both, newest first.
    const more = await api.request('POST', `/v1/agents/${good.body.agentId}/channels/email/provision`, {
      token: lister.token,
      body: { address: 'desk@lister.example' },
    });
    expect(more.status).toBe(202);
    expect((await settled(more.body.provisioningId, lister.token)).status).toBe('succeeded');
    const ofAgent = await api.request('GET', `/v1/provisioning?agentId=${good.body.agentId}`, {
      token: lister.token,
    });
    expect(ofAgent.body.items.map((p: { id: string; kind: string }) => [p.id, p.kind])).toEqual([
      [more.body.provisioningId, 'channel'],
      [good.body.provisioningId, 'agent'],
    ]);
    expect(ofAgent.body.items[0].agentName).toBe('Front desk');
    const ofAgentSucceeded = await api.request(
      'GET',
      `/v1/provisioning?agentId=${bad.body.agentId}&status=succeeded`,
      { token: lister.token },
    );
    expect(ofAgentSucceeded.body.items).toEqual([]);

    // Paging: one at a time, every provisioning once, in order; the cursor is bound to its filters.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.request(
        'GET',
        `/v1/provisioning?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: lister.token },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.items.map((p: { id: string }) => p.id));
      cursor = page.body.nextCursor;
      if (cursor) {
        const elsewhere = await api.request(
          'GET',
          `/v1/provisioning?limit=1&status=failed&cursor=${encodeURIComponent(cursor)}`,
          { token: lister.token },
        );
        expect(elsewhere.status).toBe(400);
      }
    } while (cursor);
    expect(seen).toEqual([more.body.provisioningId, bad.body.provisioningId, good.body.provisioningId]);
  });

  it('refuses bad filters with 400 naming the field', async () => {
    for (const [query, field] of [
      ['status=done', 'query.status'],
      ['agentId=nope', 'query.agentId'],
      ['limit=0', 'query.limit'],
      ['sort=name', 'query.sort'],
    ] as const) {
      const response = await api.request('GET', `/v1/provisioning?${query}`, { token: owner.token });
      expect(response.status).toBe(400);
      expect(response.body.error.details.issues[0].field).toBe(field);
    }
  });

  it("never lists another tenant's provisionings", async () => {
    const stranger = await registerTenant(api, 'Stranger lister');
    const mine = await provision({ agent: agentBody('Private desk'), channels: [{ type: 'voice' }] });
    await settled(mine.body.provisioningId);
    const theirs = await api.request('GET', '/v1/provisioning', { token: stranger.token });
    expect(theirs.status).toBe(200);
    expect(theirs.body.items).toEqual([]);
    const byAgent = await api.request('GET', `/v1/provisioning?agentId=${mine.body.agentId}`, {
      token: stranger.token,
    });
    expect(byAgent.body.items).toEqual([]);
    expect(byAgent.text).not.toContain('Private desk');
  });
});
