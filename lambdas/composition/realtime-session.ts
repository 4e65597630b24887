import { DynamoFeedbackStore } from '../adapters/dynamodb/feedback-repository';
import type { RealtimeDeps } from '../domain/realtime/session';
import { chat, type RuntimeDeps } from '../domain/runtime/agent-runtime';
import { admitTurn } from '../domain/runtime/rate-limits';
import { connectionStore, turnEventSink } from './realtime-delivery';
import { runtimeClient, runtimeConfig, runtimeDeps, runtimeHttpDeps, turnAdmission } from './runtime';

/**
 * The WebSocket message handler's dependencies: the connection store, the fan-out sink, and the
 * runtime's chat use case (admitted like every turn) run with that sink.
 */
const store = connectionStore(runtimeClient, runtimeConfig.TABLE_NAME);
const events = turnEventSink(runtimeClient, runtimeConfig.TABLE_NAME);

export const realtimeDeps: RealtimeDeps = {
  store,
  users: runtimeHttpDeps.users,
  agents: runtimeDeps.agents,
  conversations: runtimeDeps.conversations,
  executions: runtimeDeps.executions,
  feedback: new DynamoFeedbackStore(runtimeClient, runtimeConfig.TABLE_NAME),
  events,
  runChat: async (principal, agentId, input, sink) => {
    await admitTurn(turnAdmission, principal.tenantId, agentId);
    return chat({ ...runtimeDeps, events: sink } as RuntimeDeps, principal, agentId, input);
  },
  reply: async (connectionId, frame) => {
    await events.send(connectionId, frame);
  },
  now: () => new Date(),
};
