import { type ApiClient, agentBody, operatorToken, registerTenant, startApi, topUp } from '../support/api';
import { ACCOUNT_SID, configureChannel, postTwilio, twilioMessageForm } from '../support/twilio';

/** Issue 9, item 14: over a turn limit → 429 with Retry-After, and nothing run or charged. */
let api: ApiClient;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.platform.stop());

/** A tenant's own limits, set by the platform operator over the API. */
async function setLimits(tenantId: string, turnsPerMinute: number, agentTurnsPerMinute: number) {
  const set = await api.request('PUT', `/v1/operator/tenants/${tenantId}/rate-limits`, {
    token: await operatorToken(api),
    body: { turnsPerMinute, agentTurnsPerMinute },
  });
  expect(set.status).toBe(200);
  expect(set.body).toMatchObject({ tenantId, turnsPerMinute, agentTurnsPerMinute, source: 'override' });
}

async function activeAgent(token: string, name: string) {
  const created = await api.request('POST', '/v1/agents', { token, body: agentBody(name) });
  expect(created.status).toBe(201);
  expect((await api.request('POST', `/v1/agents/${created.body.id}/start`, { token })).status).toBe(200);
  return created.body.id as string;
}

/** Windows are calendar minutes: start well inside one, so the test's turns share it. */
async function awayFromMinuteEnd() {
  const second = new Date().getUTCSeconds();
  if (second > 40) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
}

it('refuses turns over the agent’s and the tenant’s limits with 429 and Retry-After, charging nothing', async () => {
  const owner = await registerTenant(api);
  await topUp(api, owner.token, 1000);
  const [first, second] = [await activeAgent(owner.token, 'One'), await activeAgent(owner.token, 'Two')];
  await setLimits(owner.tenantId, 3, 2);
  await awayFromMinuteEnd();

  const chat = (agentId: string) =>
    api.request('POST', `/v1/agents/${agentId}/chat`, { token: owner.token, body: { message: 'Hello' } });
  expect((await chat(first)).status).toBe(200);
  expect((await chat(first)).status).toBe(200);

  const balance = async () => (await api.request('GET', '/v1/tokens/balance', { token: owner.token })).body;
  const executions = async (agentId: string) =>
    (await api.request('GET', `/v1/agents/${agentId}/executions`, { token: owner.token })).body.items.length;
  const before = { balance: await balance(), executions: await executions(first) };

  const agentLimited = await chat(first);
  expect(agentLimited.status).toBe(429);
  expect(agentLimited.body.error).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'agent' } });
  const retryAfter = Number(agentLimited.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(agentLimited.body.error.details.retryAfterSeconds).toBe(retryAfter);

  // The other agent still has room, up to the tenant's limit (process counts as a turn too)…
  const processed = await api.request('POST', '/v1/agent/process', {
    token: owner.token,
    body: { agentId: second, message: 'Hi' },
  });
  expect(processed.status).toBe(200);
  // …which is now reached, for execute as well.
  const tenantLimited = await api.request('POST', `/v1/agents/${second}/execute`, {
    token: owner.token,
    body: { task: 'Summarise the day' },
  });
  expect(tenantLimited.status).toBe(429);
  expect(tenantLimited.body.error.details).toMatchObject({ limit: 'tenant', turnsPerMinute: 3 });
  expect(tenantLimited.headers.get('retry-after')).toMatch(/^\d+$/);

  // Refused turns ran nothing and charged nothing.
  expect(await executions(first)).toBe(before.executions);
  expect(await executions(second)).toBe(1);
  const after = await balance();
  const charged = (before.balance.available as number) - (after.available as number);
  // Only the admitted process turn was charged (one LLM call), the refused ones nothing.
  expect(charged).toBe(1);
  expect(after.reserved).toBe(0);
});

it('leaves other tenants alone', async () => {
  const busy = await registerTenant(api);
  const calm = await registerTenant(api);
  await topUp(api, calm.token, 100);
  await setLimits(busy.tenantId, 1, 1);
  const agentId = await activeAgent(calm.token, 'Calm');
  for (let i = 0; i < 3; i++) {
    const response = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: calm.token,
      body: { message: 'Hello' },
    });
    expect(response.status).toBe(200);
  }
});

it('lets the platform operator read, set and clear a tenant’s limits, and nobody else', async () => {
  const tenant = await registerTenant(api, 'Operator-limited');
  const operator = await operatorToken(api);
  const path = `/v1/operator/tenants/${tenant.tenantId}/rate-limits`;
  const before = await api.request('GET', path, { token: operator });
  expect(before.status).toBe(200);
  expect(before.body).toMatchObject({ tenantId: tenant.tenantId, source: 'default' });
  expect(
    (
      await api.request('PUT', path, {
        token: tenant.token,
        body: { turnsPerMinute: 1, agentTurnsPerMinute: 1 },
      })
    ).status,
  ).toBe(403);
  const refused = await api.request('PUT', path, {
    token: operator,
    body: { turnsPerMinute: 5, agentTurnsPerMinute: 10 },
  });
  expect(refused.status).toBe(400);
  expect(JSON.stringify(refused.body)).toContain('agentTurnsPerMinute');
  await setLimits(tenant.tenantId, 7, 3);
  const audit = await api.request('GET', '/v1/audit', { token: tenant.token });
  expect(audit.body.items.some((entry: { actor: { kind: string } }) => entry.actor.kind === 'operator')).toBe(
    true,
  );
  const cleared = await api.request('DELETE', path, { token: operator });
  expect(cleared.status).toBe(200);
  expect(cleared.body).toEqual({ ...before.body });
  const unknown = await api.request(
    'GET',
    '/v1/operator/tenants/ten_01ARZ3NDEKTSV4RRFFQ69G5FAV/rate-limits',
    {
      token: operator,
    },
  );
  expect(unknown.status).toBe(404);
});

describe('inbound channel turns', () => {
  const AUTH_TOKEN = 'twilio-auth-token-rate-limits';
  const drain = async () => {
    const { localInboundQueue: queue } = await import('../../lambdas/composition/inbound');
    await queue?.drain();
  };
  afterAll(drain);

  it('are admitted under the same limits: over them the provider still gets its 200, no reply is sent, nothing is charged and the conversation says why', async () => {
    const owner = await registerTenant(api);
    await topUp(api, owner.token, 1000);
    const agentId = await activeAgent(owner.token, 'Front desk');
    const agentNumber = '+15557770101';
    const customer = '+15557770102';
    await configureChannel(
      api,
      { tenantId: owner.tenantId, agentId, channel: 'sms', address: agentNumber },
      { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN },
    );
    await setLimits(owner.tenantId, 2, 2);
    await awayFromMinuteEnd();
    const text = (body: string) =>
      postTwilio(
        api,
        '/v1/webhooks/twilio/sms',
        twilioMessageForm('sms', { to: agentNumber, from: customer, body }),
        AUTH_TOKEN,
      );
    const balance = async () => (await api.request('GET', '/v1/tokens/balance', { token: owner.token })).body;

    for (const body of ['What is 1+1?', 'What is 2+2?']) {
      expect((await text(body)).status).toBe(200);
      await drain();
    }
    const before = await balance();
    // The third turn in the minute: acknowledged (the provider must not retry it), never run.
    const third = await text('What is 3+3?');
    expect(third.status).toBe(200);
    await drain();

    const outbox = await api.request('GET', '/v1/dev/outbox?kind=sms&limit=100', { token: owner.token });
    const replies = (outbox.body.items as { to: string }[]).filter((item) => item.to === customer);
    expect(replies).toHaveLength(2);
    const after = await balance();
    expect(after.available).toBe(before.available);
    expect(after.reserved).toBe(0);

    const conversations = await api.request('GET', `/v1/conversations?agentId=${agentId}`, {
      token: owner.token,
    });
    const [conversation] = conversations.body.items as { id: string }[];
    const messages = await api.request('GET', `/v1/conversations/${conversation?.id}/messages?limit=100`, {
      token: owner.token,
    });
    const refused = (
      messages.body.items as {
        role: string;
        content: string;
        unanswered?: { code: string; reason: string };
      }[]
    ).find((message) => message.content === 'What is 3+3?');
    expect(refused).toMatchObject({
      role: 'user',
      unanswered: { code: 'RATE_LIMITED', reason: expect.stringContaining('limit of 2 turns per minute') },
    });
    // The same limits count chat turns and inbound turns together.
    const chat = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: owner.token,
      body: { message: 'Hello' },
    });
    expect(chat.status).toBe(429);

    // Only turns count: an opt-out at the limit is still recorded and confirmed once.
    expect((await text('STOP')).status).toBe(200);
    await drain();
    const later = await api.request('GET', '/v1/dev/outbox?kind=sms&limit=100', { token: owner.token });
    const sent = (later.body.items as { to: string; body: string }[]).filter((item) => item.to === customer);
    expect(sent).toHaveLength(3);
    expect(sent[0]?.body).toContain('unsubscribed');
  });
});
