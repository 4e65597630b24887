/**
 * What a turn tells its watchers (issue 14): the runtime, the approvals and the handoff routes
 * publish through the one sink of the process, end to end over HTTP against local mode, with a
 * recording sink where the WebSocket fan-out goes. Order, scope (conversation, execution) and
 * that a sink can never fail the turn.
 */

import { useTurnEventSink } from '../../lambdas/composition/turn-events';
import type { TurnEvent, TurnEventScope, TurnEventSink } from '../../lambdas/domain/runtime/turn-events';
import { NO_TURN_EVENTS } from '../../lambdas/domain/runtime/turn-events';
import { type ApiClient, agentBody, registerTenant, startApi, topUp, userWithRole } from '../support/api';

let api: ApiClient;
let published: { scope: TurnEventScope; event: TurnEvent }[] = [];
const recording: TurnEventSink = { publish: (scope, event) => published.push({ scope, event }) };

beforeAll(async () => {
  api = await startApi();
}, 60_000);
afterAll(async () => {
  useTurnEventSink(NO_TURN_EVENTS);
  await api.platform.stop();
});
beforeEach(() => {
  published = [];
  useTurnEventSink(recording);
});
afterEach(() => jest.restoreAllMocks());

async function tenantWithAgent(tools: string[]) {
  const owner = await registerTenant(api);
  await topUp(api, owner.token, 1_000);
  const created = await api.request('POST', '/v1/agents', {
    token: owner.token,
    body: { ...agentBody('Desk'), tools },
  });
  expect(created.status).toBe(201);
  await api.request('POST', `/v1/agents/${created.body.id}/start`, { token: owner.token });
  return { owner, agentId: created.body.id as string };
}

/** Consecutive deltas read as one, so the order shows what a watcher sees. */
function timeline(events = published) {
  const types: string[] = [];
  for (const { event } of events) {
    const label =
      event.type === 'tool_execution' ? `tool_execution:${event.tool}:${event.status}` : event.type;
    if (label === 'agent_message_delta' && types.at(-1) === label) continue;
    types.push(label);
  }
  return types;
}

const deltasOf = (events = published) =>
  events.flatMap(({ event }) => (event.type === 'agent_message_delta' ? [event.text] : [])).join('');

describe('a chat turn', () => {
  it('tells its watchers: thinking, the tool run, thinking, the streamed reply, the message', async () => {
    const { owner, agentId } = await tenantWithAgent(['calculator']);
    const response = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: owner.token,
      body: { message: 'what is 12*(3+4)?' },
    });
    expect(response.status).toBe(200);
    expect(timeline()).toEqual([
      'agent_thinking',
      'tool_execution:calculator:started',
      'tool_execution:calculator:succeeded',
      'agent_thinking',
      'agent_message_delta',
      'agent_message',
    ]);
    // Streamed in pieces that make up the reply, which the final message carries whole.
    expect(published.filter(({ event }) => event.type === 'agent_message_delta').length).toBeGreaterThan(1);
    expect(deltasOf()).toBe(response.body.reply);
    expect(published.at(-1)?.event).toEqual({
      type: 'agent_message',
      text: response.body.reply,
      messageId: `${response.body.executionId}#2`,
    });
    for (const { scope } of published) {
      expect(scope).toEqual({
        tenantId: owner.tenantId,
        agentId,
        conversationId: response.body.conversationId,
        executionId: response.body.executionId,
      });
    }
  });

  it('tells of an action decided, its approval requested and, later, decided', async () => {
    const { owner, agentId } = await tenantWithAgent(['take_payment']);
    const coordinator = await userWithRole(api, owner.token, 'coordinator');
    const response = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'charge 49.99 USD for a cleaning' },
    });
    expect(response.status).toBe(200);
    const [action] = response.body.actions;
    expect(timeline()).toEqual([
      'agent_thinking',
      'tool_execution:take_payment:started',
      'agent_action',
      'approval_requested',
      'tool_execution:take_payment:succeeded',
      'agent_thinking',
      'agent_message_delta',
      'agent_message',
    ]);
    const events = published.map(({ event }) => event);
    expect(events).toContainEqual({
      type: 'agent_action',
      action: 'take_payment',
      actionId: action.actionId,
      level: 'approval',
      outcome: 'awaiting_approval',
    });
    expect(events).toContainEqual({
      type: 'approval_requested',
      approvalId: action.approvalId,
      action: 'take_payment',
    });

    published = [];
    const approved = await api.request('POST', `/v1/approvals/${action.approvalId}/approve`, {
      token: coordinator.token,
    });
    expect(approved.status).toBe(200);
    expect(published).toEqual([
      {
        scope: {
          tenantId: owner.tenantId,
          agentId,
          conversationId: response.body.conversationId,
          executionId: response.body.executionId,
        },
        event: { type: 'approval_decided', approvalId: action.approvalId, decision: 'approved' },
      },
    ]);
  });

  it('tells of an approval an emergency stop withdrew', async () => {
    const { owner, agentId } = await tenantWithAgent(['take_payment']);
    const response = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'charge 49.99 USD for a cleaning' },
    });
    const [action] = response.body.actions;
    expect(action).toMatchObject({ status: 'awaiting_approval' });
    published = [];
    const stopped = await api.request('POST', `/v1/agents/${agentId}/emergency-stop`, { token: owner.token });
    expect(stopped.status).toBe(200);
    expect(published.map(({ event }) => event)).toContainEqual({
      type: 'approval_decided',
      approvalId: action.approvalId,
      decision: 'cancelled',
    });
  });

  it('tells of each action a tenant-wide stop cancelled, in its own conversation', async () => {
    const { owner, agentId } = await tenantWithAgent(['take_payment']);
    const response = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'charge 49.99 USD for a cleaning' },
    });
    const [action] = response.body.actions;
    published = [];
    const stopped = await api.request('POST', '/v1/tenant/emergency-stop', { token: owner.token });
    expect(stopped.status).toBe(200);
    const scope = {
      tenantId: owner.tenantId,
      agentId,
      conversationId: response.body.conversationId,
      executionId: response.body.executionId,
    };
    // The action first, then its approval: what a watcher of the conversation or the agent sees.
    expect(published).toEqual([
      {
        scope,
        event: {
          type: 'agent_action',
          action: 'take_payment',
          actionId: action.actionId,
          level: 'approval',
          outcome: 'cancelled',
        },
      },
      { scope, event: { type: 'approval_decided', approvalId: action.approvalId, decision: 'cancelled' } },
    ]);
  });

  it('tells of a turn that failed, with the error the caller gets', async () => {
    const { owner, agentId } = await tenantWithAgent(['calculator']);
    const deps = (await import('../../lambdas/composition/runtime')).runtimeDeps;
    jest.spyOn(deps.models, 'get').mockReturnValue({
      name: 'scripted',
      converse: async () => {
        throw new TypeError('injected');
      },
    });
    const response = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: owner.token,
      body: { message: 'hello' },
    });
    expect(response.status).toBe(500);
    expect(timeline()).toEqual(['agent_thinking', 'error']);
    expect(published.at(-1)?.event).toEqual({
      type: 'error',
      code: response.body.error.code,
      message: response.body.error.message,
    });
    expect(published.at(-1)?.scope.executionId).toBe(response.body.error.details.executionId);
  });

  it('is never failed by a sink that throws', async () => {
    const { owner, agentId } = await tenantWithAgent(['calculator']);
    useTurnEventSink({
      publish: () => {
        throw new Error('injected: the sink broke');
      },
    });
    const response = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: owner.token,
      body: { message: 'what is 12*(3+4)?' },
    });
    expect(response.status).toBe(200);
    expect(response.body.reply).toContain('84');
  });
});

describe('a handoff', () => {
  it('tells the conversation’s watchers it went to a person and back to the agent', async () => {
    const { owner, agentId } = await tenantWithAgent(['calculator']);
    const chat = await api.request('POST', `/v1/agents/${agentId}/chat`, {
      token: owner.token,
      body: { message: 'hello' },
    });
    const conversationId = chat.body.conversationId as string;
    published = [];
    const handedOff = await api.request('POST', `/v1/conversations/${conversationId}/handoff`, {
      token: owner.token,
      body: { reason: 'billing question' },
    });
    expect(handedOff.status).toBe(200);
    const back = await api.request('POST', `/v1/conversations/${conversationId}/resume-agent`, {
      token: owner.token,
    });
    expect(back.status).toBe(200);
    const scope = { tenantId: owner.tenantId, agentId, conversationId };
    expect(published).toEqual([
      { scope, event: { type: 'handoff', state: 'to_human', reason: 'billing question' } },
      { scope, event: { type: 'handoff', state: 'to_agent' } },
    ]);
  });

  it('tells of the agent handing over itself (escalate), within its turn', async () => {
    const { owner, agentId } = await tenantWithAgent(['escalate']);
    const response = await api.request('POST', '/v1/agent/process', {
      token: owner.token,
      body: { agentId, message: 'I want to talk to a human' },
    });
    expect(response.status).toBe(200);
    expect(timeline()).toEqual([
      'agent_thinking',
      'tool_execution:escalate:started',
      'handoff',
      'agent_action',
      'tool_execution:escalate:succeeded',
      'agent_thinking',
      'agent_message_delta',
      'agent_message',
    ]);
  });
});
