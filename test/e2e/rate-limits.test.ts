import { createDocumentClient } from '../../lambdas/adapters/dynamodb/document-client';
import { DynamoRateLimitRepository } from '../../lambdas/adapters/dynamodb/rate-limit-repository';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

/** Issue 9, item 14: over a turn limit → 429 with Retry-After, and nothing run or charged. */
let api: ApiClient;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.platform.stop());

/** What the operator route does (its wiring is the operator's work): a tenant's own limits. */
async function setLimits(tenantId: string, turnsPerMinute: number, agentTurnsPerMinute: number) {
  const client = createDocumentClient({ region: 'us-east-1', endpoint: api.platform.dynamoEndpoint });
  try {
    await new DynamoRateLimitRepository(client, api.platform.tableName).setOverride(tenantId, {
      turnsPerMinute,
      agentTurnsPerMinute,
      updatedAt: new Date().toISOString(),
      updatedBy: 'test-operator',
    });
  } finally {
    client.destroy();
  }
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
