/**
 * Turns that can be trusted, end to end over HTTP against local mode (issue 9, items 5–7): a turn
 * that fails after its actions ran records what it did, names it, and a retry with the same
 * Idempotency-Key replays that instead of running anything again; the same key with a different
 * request is a 409; and once an emergency stop returns, nothing more is delivered.
 */

import { localOutbox } from '../../lambdas/adapters/local/local-outbox';
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
  return (await import('../../lambdas/composition/runtime')).runtimeDeps;
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

describe('a turn that hands the conversation over', () => {
  // It pauses its own conversation mid-turn: its completion used to be refused (paused), a 500.
  it('is stored whole, answers 200, and leaves the conversation handed off', async () => {
    const { owner, agentId } = await tenantWithAgent(['escalate']);
    const body = { message: 'I want to talk to a human' };
    const escalated = await chat(owner.token, agentId, body, 'handover-1');
    expect(escalated.status).toBe(200);
    // A retry finds the conversation handed off by the first request itself: it gets that answer.
    const retry = await chat(owner.token, agentId, body, 'handover-1');
    expect({ status: retry.status, body: retry.body }).toEqual({ status: 200, body: escalated.body });
    expect(escalated.body.actions).toEqual([
      expect.objectContaining({ action: 'escalate', status: 'executed' }),
    ]);
    const conversation = await api.request('GET', `/v1/conversations/${escalated.body.conversationId}`, {
      token: owner.token,
    });
    expect(conversation.body).toMatchObject({ status: 'handoff', messageCount: 2 });
    const messages = await api.request('GET', `/v1/conversations/${escalated.body.conversationId}/messages`, {
      token: owner.token,
    });
    expect(messages.body.items).toHaveLength(2);
    const next = await chat(owner.token, agentId, { message: 'hello?' });
    expect(next.status).toBe(409);
    expect((await chat(owner.token, agentId, { message: 'hello?' }, 'handover-2')).status).toBe(409);
  });
});

describe('a turn whose failure itself will not store', () => {
  it('records a plainer failed execution (actions without results), and replays that', async () => {
    const { owner, agentId } = await tenantWithAgent();
    const deps = await runtimeDeps();
    jest.spyOn(deps.executions, 'complete').mockRejectedValueOnce(new Error('injected: item too large'));
    const fail = jest.spyOn(deps.executions, 'fail').mockRejectedValueOnce(new Error('injected: again'));
    const body = { message: `send an SMS to ${PHONE} saying Plain` };
    const first = await chat(owner.token, agentId, body, 'plain-1');
    expect(fail).toHaveBeenCalledTimes(2);
    expect(first.status).toBe(500);
    const retry = await chat(owner.token, agentId, body, 'plain-1');
    expect(retry.status).toBe(500);
    expect(retry.body).toEqual(first.body);
    expect(first.body.error.details.actions).toEqual([
      expect.objectContaining({ action: 'send_sms', status: 'executed' }),
    ]);
    expect(first.body.error.details.actions[0].result).toBeUndefined();
    const tools = await api.request('GET', `/v1/tools/executions?agentId=${agentId}`, { token: owner.token });
    expect(tools.body.items).toEqual([
      expect.objectContaining({ name: 'send_sms', input: expect.any(String) }),
    ]);
    expect(smsSentTo(owner.tenantId)).toHaveLength(1);
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

describe('the emergency stop is final', () => {
  /** Everything the tenant's turns delivered (SMS and calls), with when. */
  function deliveries(tenantId: string) {
    return [
      ...localOutbox.list(tenantId, { kind: 'sms', limit: 100 }).items,
      ...localOutbox.list(tenantId, { kind: 'call', limit: 100 }).items,
    ];
  }

  /** Lets anything still under way land in the outbox before it is read. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  async function executedActions(token: string) {
    const response = await api.request('GET', '/v1/actions?status=executed&limit=100', { token });
    expect(response.status).toBe(200);
    return response.body.items as { id: string }[];
  }

  it('delivers nothing after stoppedAt when 20 turns are in flight as the tenant stops', async () => {
    const { owner, agentId } = await tenantWithAgent(['send_sms', 'place_call']);
    const turns = Array.from({ length: 20 }, (_, n) =>
      api.request('POST', '/v1/agent/process', {
        token: owner.token,
        body: {
          agentId,
          message:
            n % 2 === 0 ? `send an SMS to ${PHONE} saying Message ${n}` : `call ${PHONE} about order ${n}`,
        },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stop = await api.request('POST', '/v1/tenant/emergency-stop', {
      token: owner.token,
      body: { reason: 'runaway agent' },
    });
    const returnedAt = new Date().toISOString();
    expect(stop.status).toBe(200);
    const { stoppedAt } = stop.body.stop;
    expect(stoppedAt <= returnedAt).toBe(true);
    const answered = await Promise.all(turns);
    await settle();

    const delivered = deliveries(owner.tenantId);
    expect(delivered.filter((record) => record.createdAt > stoppedAt)).toEqual([]);
    // Every delivery is an executed action and every executed action was delivered.
    expect((await executedActions(owner.token)).length).toBe(delivered.length);
    // The turns refused after the stop say why.
    const refused = answered
      .flatMap((response) => (response.status === 200 ? response.body.actions : []))
      .filter((action: { status: string }) => action.status !== 'executed');
    for (const action of refused) expect(['denied', 'cancelled']).toContain(action.status);
    const stored = await api.request('GET', '/v1/tenant/emergency-stop', { token: owner.token });
    expect(stored.body.stoppedAt).toBe(stoppedAt);
  });

  /**
   * Holds every decision-engine/approval step of `tenantId` right after it has read the stop or
   * the agent — the moment a stop landing next is hardest to see — until `release()`.
   */
  async function holdAfterChecks(tenantId: string) {
    const deps = (await import('../../lambdas/composition/actions')).actionDeps();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let held = 0;
    let holding = true;
    const getStop = deps.stops.getTenantStop.bind(deps.stops);
    const getAgent = deps.agents.get.bind(deps.agents);
    jest.spyOn(deps.stops, 'getTenantStop').mockImplementation(async (id) => {
      const stop = await getStop(id);
      if (holding && id === tenantId) {
        held += 1;
        await gate;
      }
      return stop;
    });
    jest.spyOn(deps.agents, 'get').mockImplementation(async (id, agentId) => {
      const agent = await getAgent(id, agentId);
      if (holding && id === tenantId) {
        held += 1;
        await gate;
      }
      return agent;
    });
    return {
      /** Resolves once `min` steps are held and no more arrive for a while. */
      async waitForHeld(min: number) {
        let last = -1;
        for (let attempt = 0; attempt < 400; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          if (held >= min && held === last) return;
          last = held;
        }
        throw new Error(`only ${held} steps were held`);
      },
      /** Holds no more steps (those held stay held): the stop's own reads go through. */
      stopHolding: () => {
        holding = false;
      },
      release: () => {
        jest.restoreAllMocks();
        open();
      },
    };
  }

  it.each(['tenant', 'agent'] as const)(
    'runs nothing after a %s stop returns: not an automatic action, a confirmed suggestion or an approved action that had passed its checks',
    async (scope) => {
      const { owner, agentId } = await tenantWithAgent(['send_sms', 'send_email', 'place_call']);
      const policy = await api.request('PUT', '/v1/policies', {
        token: owner.token,
        body: {
          rules: [
            { action: 'send_email', level: 'suggestion' },
            { action: 'place_call', level: 'approval' },
          ],
        },
      });
      expect(policy.status).toBe(200);
      const suggestions: string[] = [];
      const approvals: string[] = [];
      for (let n = 0; n < 3; n++) {
        const email = await api.request('POST', '/v1/agent/process', {
          token: owner.token,
          body: { agentId, message: `email ana@example.test about Order ${n} saying It shipped` },
        });
        expect(email.body.actions[0].status).toBe('awaiting_confirmation');
        suggestions.push(email.body.actions[0].actionId);
        const call = await api.request('POST', '/v1/agent/process', {
          token: owner.token,
          body: { agentId, message: `call ${PHONE} about booking ${n}` },
        });
        expect(call.body.actions[0].status).toBe('awaiting_approval');
        approvals.push(call.body.actions[0].approvalId);
      }

      const hold = await holdAfterChecks(owner.tenantId);
      const inFlight = [
        ...Array.from({ length: 5 }, (_, n) =>
          api.request('POST', '/v1/agent/process', {
            token: owner.token,
            body: { agentId, message: `send an SMS to ${PHONE} saying Message ${n}` },
          }),
        ),
        ...suggestions.map((id) =>
          api.request('POST', `/v1/suggestions/${id}/confirm`, { token: owner.token }),
        ),
        ...approvals.map((id) => api.request('POST', `/v1/approvals/${id}/approve`, { token: owner.token })),
      ];
      try {
        // Every turn and confirmation has read the stop and the agent (2 each), every approved
        // action its agent (1 each), and waits.
        await hold.waitForHeld(5 * 2 + 3 * 2 + 3);
      } catch (error) {
        hold.release();
        throw error;
      }
      hold.stopHolding();
      const stop = await api.request(
        'POST',
        scope === 'tenant' ? '/v1/tenant/emergency-stop' : `/v1/agents/${agentId}/emergency-stop`,
        { token: owner.token },
      );
      hold.release();
      expect(stop.status).toBe(200);
      const answers = await Promise.all(inFlight);
      for (let attempt = 0; attempt < 100; attempt++) {
        const waiting = await api.request('GET', '/v1/actions?status=awaiting_approval&limit=100', {
          token: owner.token,
        });
        if (waiting.body.items.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await settle();

      const { stoppedAt } = stop.body.stop;
      const delivered = [
        ...deliveries(owner.tenantId),
        // Not the coordinators' approval notices: the customer's email.
        ...localOutbox
          .list(owner.tenantId, { kind: 'email', limit: 100 })
          .items.filter((email) => email.to === 'ana@example.test'),
      ];
      expect(delivered.filter((record) => record.createdAt > stoppedAt)).toEqual([]);
      expect(delivered).toEqual([]);
      expect(await executedActions(owner.token)).toEqual([]);
      // The turns' SMS were decided, then refused by the stop when they went to run.
      const sms = answers.slice(0, 5).flatMap((answer) => answer.body.actions);
      expect(sms).toHaveLength(5);
      for (const action of sms) {
        expect(action).toMatchObject({ status: 'cancelled', error: { code: 'AGENT_STOPPED' } });
      }
      for (const confirm of answers.slice(5, 8)) expect(confirm.status).toBe(409);
      for (const approval of approvals) {
        const found = await api.request('GET', `/v1/approvals/${approval}`, { token: owner.token });
        const action = await api.request('GET', `/v1/actions/${found.body.actionId}`, { token: owner.token });
        expect(action.body).toMatchObject({ status: 'cancelled', error: { code: 'AGENT_STOPPED' } });
      }
      expect((await api.request('GET', '/v1/tokens/balance', { token: owner.token })).body.reserved).toBe(0);
    },
  );
});
