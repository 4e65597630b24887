/**
 * Turns that can be trusted, end to end over HTTP against local mode (issue 9, items 5–7): a turn
 * that fails after its actions ran records what it did, names it, and a retry with the same
 * Idempotency-Key replays that instead of running anything again; the same key with a different
 * request is a 409; and once an emergency stop returns, nothing more is delivered.
 */

import { localOutbox } from '../../lambdas/adapters/outbox/local-outbox';
import type { ModelProvider } from '../../lambdas/domain/runtime/model';
import { type ApiClient, agentBody, registerTenant, startApi, topUp } from '../support/api';

let api: ApiClient;

beforeAll(async () => {
  api = await startApi();
}, 60_000);
afterAll(async () => {
  jest.restoreAllMocks();
  await api.platform.stop();
});
afterEach(() => {
  jest.restoreAllMocks();
});

const PHONE = '+15551234567';

/** The runtime Lambda's dependencies, as the local platform loaded them (same process). */
async function runtimeDeps() {
  return (await import('../../lambdas/handlers/http/runtime')).runtimeDeps;
}

async function tenantWithAgent(tools = ['send_sms', 'calculator']) {
  const owner = await registerTenant(api);
  await topUp(api, owner.token, 10_000);
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: { ...agentBody('Desk'), tools },
  });
  expect(created.status).toBe(201);
  const started = await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token });
  expect(started.status).toBe(200);
  return { owner, agentId: created.body.id as string };
}

const chat = (token: string, agentId: string, body: object, key?: string) =>
  api.request('POST', `/v1/agents/${agentId}/chat`, {
    token,
    body,
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  });

function smsSentTo(tenantId: string) {
  return localOutbox.list(tenantId, { kind: 'sms', limit: 100 }).items;
}

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

async function ledger(token: string) {
  const response = await api.request('GET', `/v1/tokens/usage?from=${day(-1)}&to=${day(1)}&limit=100`, {
    token,
  });
  expect(response.status).toBe(200);
  return response.body.items as { amount: number; type: string; action?: string; charged?: number }[];
}

describe('a turn that fails after its actions ran', () => {
  it('records what it did when its completing write fails, names it, and replays it on retry', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const deps = await runtimeDeps();
    // Any failure after the action ran will do: here the store refuses the completed turn.
    const complete = jest
      .spyOn(deps.executions, 'complete')
      .mockRejectedValueOnce(new Error('injected: the completing write failed'));
    const body = { message: `send an SMS to ${PHONE} saying Your crown is ready` };
    const first = await chat(owner.token, agentId, body, 'turn-fails-1');
    expect(complete).toHaveBeenCalledTimes(1);
    expect(first.status).toBe(500);
    expect(first.body.error.code).toBe('TURN_FAILED');
    const { executionId, actions } = first.body.error.details;
    expect(actions).toEqual([expect.objectContaining({ action: 'send_sms', status: 'executed', cost: 1 })]);
    // Nothing about the infrastructure in what the caller sees.
    expect(first.text).not.toContain('injected');

    const retries = [
      await chat(owner.token, agentId, body, 'turn-fails-1'),
      await chat(owner.token, agentId, body, 'turn-fails-1'),
    ];
    for (const retry of retries) {
      expect(retry.status).toBe(500);
      expect(retry.body.error.details).toMatchObject({ executionId, actions });
    }
    expect(smsSentTo(owner.tenantId)).toHaveLength(1);

    const execution = await api.request('GET', `/v1/executions/${executionId}`, { token: owner.token });
    expect(execution.body).toMatchObject({
      status: 'FAILED',
      error: { code: 'TURN_FAILED' },
      output: { actions: [expect.objectContaining({ action: 'send_sms', status: 'executed' })] },
    });
    expect(execution.body.usage.modelCalls).toBeGreaterThanOrEqual(2);
    expect(execution.body.toolCalls).toEqual([expect.objectContaining({ name: 'send_sms' })]);
    const tools = await api.request('GET', `/v1/tools/executions?agentId=${agentId}`, { token: owner.token });
    expect(tools.body.items).toEqual([expect.objectContaining({ name: 'send_sms', executionId })]);

    // Charged once for the SMS, and the model calls the turn made are charged too.
    const entries = await ledger(owner.token);
    const settled = (action: string) =>
      entries.filter((entry) => entry.action === action && entry.type === 'settlement');
    expect(settled('send_sms')).toHaveLength(1);
    expect(settled('llmCall')).toHaveLength(1);
    expect(settled('llmCall')[0]?.charged).toBeGreaterThanOrEqual(2);
  });

  it('records and replays a turn whose model fails after an action ran', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const deps = await runtimeDeps();
    const models = deps.models.get.bind(deps.models);
    let calls = 0;
    jest.spyOn(deps.models, 'get').mockImplementation((provider: string): ModelProvider => {
      const real = models(provider);
      return {
        name: real.name,
        converse: async (request) => {
          calls += 1;
          // The first call proposes the SMS; the one after it ran throws something unexpected.
          if (calls === 2) throw new TypeError('injected: cannot read properties of undefined');
          return real.converse(request);
        },
      };
    });
    const body = { agentId, message: `send an SMS to ${PHONE} saying See you at 3` };
    const process = () =>
      api.request('POST', '/v1/agent/process', {
        token: owner.token,
        body,
        headers: { 'idempotency-key': 'model-dies-1' },
      });
    const first = await process();
    expect(first.status).toBe(500);
    expect(first.body.error.details.actions).toEqual([
      expect.objectContaining({ action: 'send_sms', status: 'executed' }),
    ]);
    const again = await process();
    expect(again.status).toBe(500);
    expect(again.body.error.details.executionId).toBe(first.body.error.details.executionId);
    expect(calls).toBe(2);
    expect(smsSentTo(owner.tenantId)).toHaveLength(1);
    const execution = await api.request('GET', `/v1/executions/${first.body.error.details.executionId}`, {
      token: owner.token,
    });
    expect(execution.body).toMatchObject({ status: 'FAILED', usage: { modelCalls: 1 } });
  });
});

describe('the same Idempotency-Key with a different request', () => {
  it('is a 409 on chat and process; the same request (fields in any order) replays', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const first = await chat(owner.token, agentId, { message: 'what is 2+2', channel: 'web' }, 'same-key-1');
    expect(first.status).toBe(200);
    const reordered = await chat(
      owner.token,
      agentId,
      { channel: 'web', message: 'what is 2+2' },
      'same-key-1',
    );
    expect(reordered.status).toBe(200);
    expect(reordered.body.executionId).toBe(first.body.executionId);

    const different = await chat(owner.token, agentId, { message: 'what is 3+3' }, 'same-key-1');
    expect(different.status).toBe(409);
    expect(different.body.error.message).toContain('idempotency-key');
    expect(different.body.error.message).toContain('different request');

    const processed = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'what is 5+5' },
      headers: { 'idempotency-key': 'same-key-2' },
    });
    expect(processed.status).toBe(200);
    const processedOther = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'what is 6+6' },
      headers: { 'idempotency-key': 'same-key-2' },
    });
    expect(processedOther.status).toBe(409);
    const executions = await api.request('GET', `/v1/agents/${agentId}/executions`, { token: owner.token });
    expect(executions.body.items).toHaveLength(2);
  });

  it('is a 409 on execute, sync and async', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const execute = (body: object, key: string) =>
      api.request('POST', `/v1/agents/${agentId}/execute`, {
        token: owner.token,
        body,
        headers: { 'idempotency-key': key },
      });
    const first = await execute({ task: 'what is 7*6' }, 'task-key-1');
    expect(first.status).toBe(200);
    expect((await execute({ task: 'what is 7*6' }, 'task-key-1')).body.id).toBe(first.body.id);
    const other = await execute({ task: 'what is 8*6' }, 'task-key-1');
    expect(other.status).toBe(409);
    expect(other.body.error.message).toContain('different request');
    const queued = await execute({ task: 'what is 1+1', async: true }, 'task-key-2');
    expect(queued.status).toBe(202);
    expect((await execute({ task: 'what is 1+1', async: false }, 'task-key-2')).status).toBe(409);
  });
});
