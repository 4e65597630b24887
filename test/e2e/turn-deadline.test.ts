/**
 * Turns under a deadline, end to end over HTTP against local mode (issue 14, item 1): a chat turn
 * that cannot finish before its Lambda would be cut off answers 202 with its execution, the rest
 * runs in the execution queue from where it stopped, nothing runs twice, and its model calls are
 * reserved once and settled once, exactly.
 */

import { ScriptedModel } from '../../lambdas/adapters/local/scripted-model';
import type { RuntimeDeps, StepAllowances } from '../../lambdas/domain/runtime/agent-runtime';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

let api: ApiClient;
let deps: RuntimeDeps;
let deadlines: { marginMs: number };

/** The local gateway gives each request 29 s; this leaves a turn about 1.5 s of it. */
const TURN_MS = 1_500;
/** Longer than half of it: after one call and its tool round, a second call cannot fit. */
const MODEL_CALL_MS = 800;

beforeAll(async () => {
  api = await startApi();
  const composition = await import('../../lambdas/composition/runtime');
  deps = composition.runtimeDeps;
  deadlines = composition.turnDeadlines;
}, 60_000);
afterAll(async () => {
  await api.platform.stop();
});
let restore: () => void = () => undefined;
beforeEach(() => {
  const slow = new ScriptedModel({ delayMs: MODEL_CALL_MS });
  const models = deps.models.get.bind(deps.models);
  const get = jest
    .spyOn(deps.models, 'get')
    .mockImplementation((provider) => (provider === 'scripted' ? slow : models(provider)));
  const margin = deadlines.marginMs;
  deadlines.marginMs = 29_000 - TURN_MS;
  // Before a step has been timed in the turn, expect it to be quick: the first call is started.
  const mutable = deps as { stepAllowances?: StepAllowances };
  mutable.stepAllowances = { modelCallMs: 100, toolRoundMs: 50 };
  restore = () => {
    get.mockRestore();
    deadlines.marginMs = margin;
    delete mutable.stepAllowances;
  };
});
afterEach(() => {
  restore();
  jest.restoreAllMocks();
});

async function tenantWithAgent() {
  const owner = await registerTenant(api);
  await topUp(api, owner.token, 1_000);
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: { ...agentBody('Desk'), tools: ['calculator'] },
  });
  expect(created.status).toBe(201);
  await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token });
  return { owner, agentId: created.body.id as string };
}

async function untilFinished(token: string, executionId: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const execution = await api.request('GET', `/v1/executions/${executionId}`, { token });
    expect(execution.status).toBe(200);
    if (execution.body.status === 'COMPLETED' || execution.body.status === 'FAILED') return execution.body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`execution ${executionId} did not finish`);
}

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

async function llmCallEntries(token: string) {
  const response = await api.request('GET', `/v1/tokens/usage?from=${day(-1)}&to=${day(1)}&limit=100`, {
    token,
  });
  expect(response.status).toBe(200);
  return (
    response.body.items as { type: string; action?: string; amount: number; charged?: number }[]
  ).filter((entry) => entry.action === 'llmCall');
}

async function expectOneTurnRecorded(token: string, agentId: string, executionId: string) {
  const execution = await untilFinished(token, executionId);
  expect(execution).toMatchObject({ status: 'COMPLETED', usage: { modelCalls: 2 } });
  expect(execution.output.reply).toContain('84');
  expect(execution.toolCalls).toEqual([expect.objectContaining({ name: 'calculator', status: 'succeeded' })]);
  expect(execution.statusHistory.map((s: { status: string }) => s.status)).toEqual([
    'PENDING',
    'RUNNING',
    'PENDING',
    'RUNNING',
    'COMPLETED',
  ]);
  const runs = await api.request('GET', `/v1/tools/executions?agentId=${agentId}`, { token });
  expect(runs.body.items).toEqual([expect.objectContaining({ name: 'calculator', executionId })]);
  const messages = await api.request('GET', `/v1/conversations/${execution.conversationId}/messages`, {
    token,
  });
  expect(messages.body.items.map((m: { role: string; content: string }) => m.role)).toEqual([
    'user',
    'assistant',
  ]);
  expect(messages.body.items[1].content).toContain('84');
  // The reply names the tool the turn ran, in whichever part it ran.
  expect(messages.body.items[1].toolCalls).toEqual([{ name: 'calculator', status: 'succeeded' }]);
  // Reserved once for the whole turn, settled once for the two calls it made.
  const entries = await llmCallEntries(token);
  expect(entries.filter((entry) => entry.type === 'reservation')).toHaveLength(1);
  const settlements = entries.filter((entry) => entry.type === 'settlement');
  expect(settlements).toHaveLength(1);
  expect(settlements[0]?.charged).toBe(2 * deps.billing.costs.llmCall);
  const balance = await api.request('GET', '/v1/tokens/balance', { token });
  expect(balance.body).toMatchObject({ reserved: 0 });
  return execution;
}

describe('a chat turn that runs out of time', () => {
  it('answers 202 with its execution, and the queue finishes it from where it stopped', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const started = Date.now();
    const response = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: owner.token,
      body: { message: 'what is 12*(3+4)?' },
    });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ deferred: true, status: 'PENDING' });
    // It answered about when its deadline came (not after running the turn to its end, which
    // takes two slow calls after the deadline's worth of work); slack for a busy machine.
    expect(Date.now() - started).toBeLessThan(TURN_MS + 2 * MODEL_CALL_MS);
    await expectOneTurnRecorded(owner.token, agentId, response.body.executionId);
  });

  it('runs nothing twice when the queue delivers the deferred turn twice at once', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const queued: { tenantId: string; executionId: string }[] = [];
    jest.spyOn(deps.queue, 'enqueue').mockImplementation(async (message) => {
      queued.push(message);
    });
    const send = () =>
      api.request('POST', `/v1/agents/${agentId}/chat`, {
        token: owner.token,
        body: { message: 'what is 12*(3+4)?' },
        headers: { 'idempotency-key': 'deferred-turn-1' },
      });
    const response = await send();
    expect(response.status).toBe(202);
    // A retry while it waits in the queue is answered as the first request was, and queues nothing.
    const retry = await send();
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(response.body);
    expect(queued).toEqual([{ tenantId: owner.tenantId, executionId: response.body.executionId }]);
    const { processQueuedExecution } = await import('../../lambdas/domain/runtime/agent-runtime');
    const message = queued[0] as { tenantId: string; executionId: string };
    const { inTenantScope } = await import('../../lambdas/composition/tenant-scope');
    // As the worker runs each message: in its tenant's scope.
    const deliver = () =>
      inTenantScope(message.tenantId, () =>
        processQueuedExecution(deps, message.tenantId, message.executionId),
      );
    await Promise.all([deliver(), deliver()]);
    await deliver();
    await expectOneTurnRecorded(owner.token, agentId, response.body.executionId);
    // Once finished, a retry gets the reply.
    const late = await send();
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({
      executionId: response.body.executionId,
      reply: expect.stringContaining('84'),
    });
  });

  it('gives the tokens back when the agent was paused before the queue went on', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const queued: { tenantId: string; executionId: string }[] = [];
    jest.spyOn(deps.queue, 'enqueue').mockImplementation(async (message) => {
      queued.push(message);
    });
    const response = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: owner.token,
      body: { message: 'what is 12*(3+4)?' },
    });
    expect(response.status).toBe(202);
    const before = await api.request('GET', '/v1/tokens/balance', { token: owner.token });
    expect(before.body.reserved).toBeGreaterThan(0);
    await api.request('POST', `/v1/agents/${agentId}/pause`, { token: owner.token });
    const { processQueuedExecution } = await import('../../lambdas/domain/runtime/agent-runtime');
    const { inTenantScope } = await import('../../lambdas/composition/tenant-scope');
    await inTenantScope(owner.tenantId, () =>
      processQueuedExecution(deps, owner.tenantId, response.body.executionId),
    );
    const execution = await untilFinished(owner.token, response.body.executionId);
    expect(execution).toMatchObject({ status: 'FAILED', error: { code: 'AGENT_UNAVAILABLE' } });
    const settled = (await llmCallEntries(owner.token)).filter((entry) => entry.type === 'settlement');
    expect(settled).toEqual([
      expect.objectContaining({ charged: execution.usage.modelCalls * deps.billing.costs.llmCall }),
    ]);
    const after = await api.request('GET', '/v1/tokens/balance', { token: owner.token });
    expect(after.body.reserved).toBe(0);
  });

  it('holds for a synchronous task too: 202 with the PENDING execution, finished by the queue', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const response = await api.request('POST', `/v1/agents/${agentId}/execute`, {
      token: owner.token,
      body: { task: 'what is 12*(3+4)?' },
    });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ id: expect.any(String), kind: 'task', status: 'PENDING' });
    const execution = await untilFinished(owner.token, response.body.id);
    expect(execution).toMatchObject({ status: 'COMPLETED', usage: { modelCalls: 2 } });
    expect(execution.output.reply).toContain('84');
    expect(execution.toolCalls).toEqual([expect.objectContaining({ name: 'calculator' })]);
    const runs = await api.request('GET', `/v1/tools/executions?agentId=${agentId}`, { token: owner.token });
    expect(runs.body.items).toHaveLength(1);
    const settlements = (await llmCallEntries(owner.token)).filter((entry) => entry.type === 'settlement');
    expect(settlements).toEqual([expect.objectContaining({ charged: 2 * deps.billing.costs.llmCall })]);
  });

  it('stops instead, for a caller that cannot wait (voice): FAILED, unused tokens released', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const { chat } = await import('../../lambdas/domain/runtime/agent-runtime');
    const { inTenantScope } = await import('../../lambdas/composition/tenant-scope');
    const principal = { tenantId: owner.tenantId, userId: owner.ownerId, role: 'owner' as const };
    const failure = await inTenantScope(owner.tenantId, () =>
      chat(deps, principal, agentId, {
        message: 'what is 12*(3+4)?',
        channel: 'web',
        deadline: Date.now() + 1_000,
        onDeadline: 'stop',
      }),
    ).catch((error) => error);
    expect(failure).toMatchObject({ statusCode: 504, code: 'TURN_DEADLINE_EXCEEDED' });
    const executionId = failure.details.executionId as string;
    const execution = await api.request('GET', `/v1/executions/${executionId}`, { token: owner.token });
    expect(execution.body).toMatchObject({ status: 'FAILED', error: { code: 'TURN_DEADLINE_EXCEEDED' } });
    const entries = await llmCallEntries(owner.token);
    const settled = entries.filter((entry) => entry.type === 'settlement');
    expect(settled).toHaveLength(1);
    expect(settled[0]?.charged).toBe(execution.body.usage.modelCalls * deps.billing.costs.llmCall);
    const balance = await api.request('GET', '/v1/tokens/balance', { token: owner.token });
    expect(balance.body).toMatchObject({ reserved: 0 });
  });
});
