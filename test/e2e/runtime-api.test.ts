import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiClient, agentBody, registerTenant, startApi, topUp, userWithRole } from '../support/api';

/** An OpenAI-compatible server that refuses every request: the provider failure path. */
let failingModel: Server;
let api: ApiClient;
let owner: Awaited<ReturnType<typeof registerTenant>>;

beforeAll(async () => {
  failingModel = createServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'model not found' } }));
  });
  await new Promise<void>((resolve) => failingModel.listen(0, '127.0.0.1', resolve));
  process.env.OPENAI_BASE_URL = `http://127.0.0.1:${(failingModel.address() as AddressInfo).port}/v1`;
  api = await startApi();
  owner = await registerTenant(api);
  await topUp(api, owner.token, 10_000);
});
afterAll(async () => {
  await api.platform.stop();
  await new Promise((resolve) => failingModel.close(resolve));
});

const profile = {
  businessProfile: {
    name: 'Smile Dental',
    phone: '+14155550100',
    hours: [{ day: 'mon', opens: '09:00', closes: '17:00' }],
  },
  knowledgeBase: {
    faqs: [{ question: 'Do you take walk-ins?', answer: 'Walk-ins are welcome before noon.' }],
    products: [{ name: 'Cleaning', price: 120, currency: 'USD' }],
  },
};

async function activeAgent(extra: object = {}, token = owner.token) {
  const created = await api.request('POST', '/v1/agents', {
    token,
    body: {
      ...agentBody('Desk'),
      ...profile,
      tools: ['calculator', 'current_time', 'knowledge_lookup'],
      ...extra,
    },
  });
  expect(created.status).toBe(201);
  await api.request('POST', `/v1/agents/${created.body.id}/start`, { token });
  return created.body.id as string;
}

const chat = (agentId: string, body: object, headers: Record<string, string> = {}, token = owner.token) =>
  api.request('POST', `/v1/agents/${agentId}/chat`, { token, body, headers });

describe('chat', () => {
  it('answers from the business profile with the scripted model and records everything', async () => {
    const agentId = await activeAgent();
    const first = await chat(agentId, { message: 'Do you take walk-ins?' });
    expect(first.status).toBe(200);
    expect(first.body.reply).toContain('Walk-ins are welcome before noon');
    expect(first.body.usage).toMatchObject({ modelCalls: 1 });
    expect(first.body.usage.inputTokens).toBeGreaterThan(0);

    const sum = await chat(agentId, { message: 'what is 12*(3+4)?' });
    expect(sum.body.reply).toContain('84');
    expect(sum.body.toolCalls).toEqual([
      expect.objectContaining({ name: 'calculator', status: 'succeeded' }),
    ]);
    expect(sum.body.conversationId).toBe(first.body.conversationId);

    const messages = await api.request('GET', `/v1/conversations/${first.body.conversationId}/messages`, {
      token: owner.token,
    });
    expect(messages.body.items.map((m: { role: string }) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    const conversation = await api.request('GET', `/v1/conversations/${first.body.conversationId}`, {
      token: owner.token,
    });
    expect(conversation.body).toMatchObject({ agentId, channel: 'web', status: 'active', messageCount: 4 });

    const execution = await api.request('GET', `/v1/executions/${sum.body.executionId}`, {
      token: owner.token,
    });
    expect(execution.body).toMatchObject({
      status: 'COMPLETED',
      kind: 'chat',
      output: { reply: sum.body.reply },
    });
    expect(execution.body.statusHistory.map((s: { status: string }) => s.status)).toEqual([
      'PENDING',
      'RUNNING',
      'COMPLETED',
    ]);

    const runs = await api.request('GET', `/v1/tools/executions?agentId=${agentId}`, { token: owner.token });
    expect(runs.body.items[0]).toMatchObject({
      name: 'calculator',
      status: 'succeeded',
      input: { expression: expect.any(String) },
    });
    expect(runs.body.items[0].output.result).toBe(84);

    const stats = await api.request('GET', `/v1/agents/${agentId}/stats`, { token: owner.token });
    expect(stats.body).toMatchObject({ executions: 2, succeeded: 2, failed: 0, successRate: 1 });
    expect(stats.body.avgTokens).toBeGreaterThan(0);
  });

  it('refuses to answer for an agent that is not active, saying why', async () => {
    const created = await api.request('POST', '/v1/agents', { token: owner.token, body: agentBody('Draft') });
    const draft = await chat(created.body.id, { message: 'hello' });
    expect(draft.status).toBe(409);
    expect(draft.body.error.message).toContain('draft');
    const agentId = await activeAgent();
    await api.request('POST', `/v1/agents/${agentId}/pause`, { token: owner.token });
    const paused = await chat(agentId, { message: 'hello' });
    expect(paused.status).toBe(409);
    expect(paused.body.error.details).toEqual({ status: 'paused' });
    await api.request('DELETE', `/v1/agents/${agentId}`, { token: owner.token });
    const deleted = await chat(agentId, { message: 'hello' });
    expect(deleted.status).toBe(409);
    expect(deleted.body.error.details).toEqual({ status: 'deleted' });
    const stopped = await activeAgent();
    await api.request('POST', `/v1/agents/${stopped}/stop`, { token: owner.token });
    expect((await chat(stopped, { message: 'hello' })).body.error.details).toEqual({ status: 'stopped' });
  });

  it('recognises one customer across SMS, WhatsApp and voice by phone number', async () => {
    const agentId = await activeAgent({
      channels: [{ type: 'sms' }, { type: 'whatsapp' }, { type: 'voice' }],
    });
    const customer = { phone: '+14155550123', name: 'Pat' };
    const sms = await chat(agentId, { message: 'hi', channel: 'sms', customer });
    const whatsapp = await chat(agentId, {
      message: 'hi',
      channel: 'whatsapp',
      customer: { phone: '+14155550123' },
    });
    const voice = await chat(agentId, {
      message: 'hi',
      channel: 'voice',
      customer: { phone: '+14155550123' },
    });
    expect(new Set([sms.body.customerId, whatsapp.body.customerId, voice.body.customerId]).size).toBe(1);
    expect(
      new Set([sms.body.conversationId, whatsapp.body.conversationId, voice.body.conversationId]).size,
    ).toBe(3);
    const telegram = await chat(agentId, {
      message: 'hi',
      channel: 'telegram',
      customer: { externalId: '42' },
    });
    expect(telegram.status).toBe(409);
    const missingPhone = await chat(agentId, { message: 'hi', channel: 'sms' });
    expect(missingPhone.status).toBe(400);
    expect(missingPhone.body.error.details.issues[0].field).toBe('body.customer.phone');
  });

  it('stores a retried turn once: the same Idempotency-Key replays the first answer', async () => {
    const agentId = await activeAgent();
    const headers = { 'idempotency-key': 'turn-0001' };
    const [a, b] = await Promise.all([
      chat(agentId, { message: 'what is 2+2' }, headers),
      chat(agentId, { message: 'what is 2+2' }, headers),
    ]);
    const replay = await chat(agentId, { message: 'what is 2+2' }, headers);
    const ok = [a, b, replay].filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ok.map((r) => r.body.executionId)).size).toBe(1);
    expect([a, b].every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const messages = await api.request('GET', `/v1/conversations/${replay.body.conversationId}/messages`, {
      token: owner.token,
    });
    expect(messages.body.items).toHaveLength(2);
  });

  it('leaves a FAILED execution with the reason and no half-written conversation when the provider fails', async () => {
    const agentId = await activeAgent({ model: { provider: 'openai-compatible', modelId: 'gpt-4o-mini' } });
    const failed = await chat(agentId, { message: 'hello there' });
    expect({ status: failed.status, body: failed.body }).toMatchObject({ status: 502 });
    // In product terms: the provider, the model and what went wrong (test/e2e/error-exposure.test.ts).
    expect(failed.body.error.message).toContain('openai-compatible: gpt-4o-mini: HTTP 400');
    const executionId = failed.body.error.details.executionId;
    const execution = await api.request('GET', `/v1/executions/${executionId}`, { token: owner.token });
    expect(execution.body).toMatchObject({ status: 'FAILED', error: { code: 'MODEL_FAILED' } });
    expect(execution.body.statusHistory.map((s: { status: string }) => s.status)).toEqual([
      'PENDING',
      'RUNNING',
      'FAILED',
    ]);
    const conversations = await api.request('GET', `/v1/conversations?agentId=${agentId}`, {
      token: owner.token,
    });
    const messages = await api.request(
      'GET',
      `/v1/conversations/${conversations.body.items[0].id}/messages`,
      { token: owner.token },
    );
    expect(messages.body.items).toEqual([]);
    const stats = await api.request('GET', `/v1/agents/${agentId}/stats`, { token: owner.token });
    expect(stats.body).toMatchObject({ executions: 1, failed: 1, successRate: 0 });
  });

  it('lets members chat but not edit tools, and keeps paused conversations for people', async () => {
    const member = await userWithRole(api, owner.token, 'member');
    const agentId = await activeAgent();
    const turn = await chat(agentId, { message: 'what time is it?' }, {}, member.token);
    expect(turn.status).toBe(200);
    expect(turn.body.toolCalls[0].name).toBe('current_time');
    expect(
      (await api.request('PUT', `/v1/agents/${agentId}/tools`, { token: member.token, body: { tools: [] } }))
        .status,
    ).toBe(403);
    expect(
      (
        await api.request('POST', `/v1/conversations/${turn.body.conversationId}/pause`, {
          token: member.token,
        })
      ).status,
    ).toBe(403);
    const paused = await api.request('POST', `/v1/conversations/${turn.body.conversationId}/pause`, {
      token: owner.token,
    });
    expect(paused.body.status).toBe('paused');
    expect((await chat(agentId, { message: 'hello?' }, {}, member.token)).status).toBe(409);
    await api.request('POST', `/v1/conversations/${turn.body.conversationId}/resume`, { token: owner.token });
    expect((await chat(agentId, { message: 'hello?' }, {}, member.token)).status).toBe(200);
  });
});

describe('executions', () => {
  it('runs a task synchronously, or queues it and completes it in the background', async () => {
    const agentId = await activeAgent();
    const sync = await api.request('POST', `/v1/agents/${agentId}/execute`, {
      token: owner.token,
      body: { task: 'calculate 6*7', context: { orderId: 'A-1' } },
    });
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({
      status: 'COMPLETED',
      kind: 'task',
      output: { reply: expect.stringContaining('42') },
    });

    const queued = await api.request('POST', `/v1/agents/${agentId}/execute`, {
      token: owner.token,
      body: { task: 'calculate 10/4', async: true },
    });
    expect(queued.status).toBe(202);
    expect(queued.body.status).toBe('PENDING');
    let polled = queued;
    for (let i = 0; i < 50 && polled.body.status !== 'COMPLETED'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      polled = await api.request('GET', `/v1/executions/${queued.body.id}`, { token: owner.token });
    }
    expect(polled.body).toMatchObject({
      status: 'COMPLETED',
      output: { reply: expect.stringContaining('2.5') },
    });

    const completed = await api.request('GET', `/v1/agents/${agentId}/executions?status=COMPLETED`, {
      token: owner.token,
    });
    expect(completed.body.items.map((e: { id: string }) => e.id)).toEqual([queued.body.id, sync.body.id]);
  });
});

describe('conversations', () => {
  it('lists by agent and customer, exports JSON and CSV, and archives', async () => {
    const agentId = await activeAgent();
    const turn = await chat(agentId, {
      message: 'Do you take walk-ins? "quoted", =1+1',
      customer: { externalId: 'web-visitor-7' },
    });
    const byAgent = await api.request('GET', `/v1/conversations?agentId=${agentId}`, { token: owner.token });
    expect(byAgent.body.items.map((c: { id: string }) => c.id)).toEqual([turn.body.conversationId]);
    const byCustomer = await api.request('GET', `/v1/conversations?customerId=${turn.body.customerId}`, {
      token: owner.token,
    });
    expect(byCustomer.body.items).toHaveLength(1);

    const json = await api.request('GET', `/v1/conversations/${turn.body.conversationId}/export`, {
      token: owner.token,
    });
    expect(json.body.messages).toHaveLength(2);
    const csv = await api.request('GET', `/v1/conversations/${turn.body.conversationId}/export?format=csv`, {
      token: owner.token,
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('createdAt,role,content,executionId,inputTokens,outputTokens');
    expect(lines[1]).toContain('"Do you take walk-ins? ""quoted"", =1+1"');

    const archived = await api.request('POST', `/v1/conversations/${turn.body.conversationId}/archive`, {
      token: owner.token,
    });
    expect(archived.body.status).toBe('archived');
    const reopened = await chat(agentId, {
      message: 'hello again',
      customer: { externalId: 'web-visitor-7' },
    });
    expect(reopened.body.conversationId).toBe(turn.body.conversationId);
    expect(
      (await api.request('GET', `/v1/conversations/${turn.body.conversationId}`, { token: owner.token })).body
        .status,
    ).toBe('active');
  });
});

describe('tools', () => {
  it('lists the registry with JSON schemas and replaces an agent’s tools as a new version', async () => {
    const tools = await api.request('GET', '/v1/tools', { token: owner.token });
    const calculator = tools.body.items.find((t: { name: string }) => t.name === 'calculator');
    expect(calculator.inputSchema).toMatchObject({
      type: 'object',
      required: ['expression'],
      additionalProperties: false,
    });
    const agentId = await activeAgent();
    const put = await api.request('PUT', `/v1/agents/${agentId}/tools`, {
      token: owner.token,
      body: { tools: ['current_time', 'send_sms'] },
    });
    expect(put.body).toMatchObject({
      tools: ['current_time', 'send_sms'],
      available: ['current_time', 'send_sms'],
    });
    const agent = await api.request('GET', `/v1/agents/${agentId}`, { token: owner.token });
    expect(agent.body.version).toBe(2);
    const noCalc = await chat(agentId, { message: 'what is 3*3' });
    expect(noCalc.body.toolCalls).toEqual([]);
    const withSettings = await api.request('PUT', `/v1/agents/${agentId}/tools`, {
      token: owner.token,
      body: { tools: ['http_request'], toolSettings: { httpAllowedHosts: ['api.example.com'] } },
    });
    expect(withSettings.status).toBe(200);
    expect(withSettings.body.toolSettings).toEqual({ httpAllowedHosts: ['api.example.com'] });
  });
});

describe('model calls are paid in tokens', () => {
  it('charges each model call through the ledger and refuses a tenant without tokens with 402', async () => {
    const broke = await registerTenant(api, 'Broke Co');
    const created = await api.request('POST', '/v1/agents', {
      token: broke.token,
      body: { ...agentBody('Thrifty'), tools: ['calculator'] },
    });
    await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: broke.token });
    const refused = await chat(created.body.id, { message: 'hello' }, {}, broke.token);
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({ code: 'INSUFFICIENT_BALANCE', details: { available: 0 } });
    const execution = await api.request('GET', `/v1/executions/${refused.body.error.details.executionId}`, {
      token: broke.token,
    });
    expect(execution.body).toMatchObject({ status: 'FAILED', error: { code: 'INSUFFICIENT_BALANCE' } });
    const conversations = await api.request('GET', '/v1/conversations', { token: broke.token });
    const messages = await api.request(
      'GET',
      `/v1/conversations/${conversations.body.items[0].id}/messages`,
      { token: broke.token },
    );
    expect(messages.body.items).toEqual([]);

    await topUp(api, broke.token, 50);
    const turn = await chat(created.body.id, { message: 'what is 12*(3+4)?' }, {}, broke.token);
    expect(turn.status).toBe(200);
    expect(turn.body.usage.modelCalls).toBe(2);
    const balance = await api.request('GET', '/v1/tokens/balance', { token: broke.token });
    expect(balance.body).toMatchObject({ available: 48, reserved: 0 });
    const usage = await api.request('GET', '/v1/tokens/usage', { token: broke.token });
    const types = usage.body.items.map((entry: { type: string }) => entry.type);
    expect(types).toEqual(expect.arrayContaining(['purchase', 'reservation', 'settlement']));
    const settlement = usage.body.items.find(
      (entry: { type: string; executionId?: string }) =>
        entry.type === 'settlement' && entry.executionId === turn.body.executionId,
    );
    expect(settlement).toMatchObject({ charged: 2, action: 'llmCall', agentId: created.body.id });
  });
});
