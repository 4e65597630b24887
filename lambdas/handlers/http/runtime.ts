import { respondDeps } from '../../composition/inbound-worker';
import {
  agentDeps,
  runtimeDeps,
  runtimeHttpDeps,
  turnAdmission,
  turnDeadlineOf,
} from '../../composition/runtime';
import { inTenantScope } from '../../composition/tenant-scope';
import { drainTurnEvents } from '../../composition/turn-events';
import { actionSpecOf, listActions as listActionDefinitions } from '../../domain/actions/catalog';
import { actionsOf } from '../../domain/actions/decision-engine';
import { updateAgent } from '../../domain/agents/agents';
import { type StaffMessageDeps, sendStaffMessage } from '../../domain/channels/staff-message';
import {
  type HandoffDeps,
  handOffConversation,
  resumeAgentInConversation,
} from '../../domain/conversations/handoff';
import {
  conversationView,
  exportConversation,
  getConversation,
  listConversations,
  listMessages,
  messagesToCsv,
  setConversationStatus,
} from '../../domain/conversations/manage';
import {
  type ChatResult,
  chat,
  type DeferredChat,
  executeTask,
  getExecution,
  isDeferredChat,
  listExecutions,
} from '../../domain/runtime/agent-runtime';
import { admitTurn } from '../../domain/runtime/rate-limits';
import { NotFoundError } from '../../domain/shared/errors';
import { listTools, specOf, toolsFor } from '../../domain/tools/registry';
import { createHttpHandler } from '../../http/http-handler';
import { idempotencyKey } from '../../http/request';
import { RUNTIME_ROUTES } from '../../http/routes/runtime';

const agents = runtimeDeps.agents;

/** Human handoff tells coordinators the way approvals do (email and the bus). */
const handoffDeps = (): HandoffDeps => {
  if (!runtimeDeps.actions) throw new Error('human handoff needs the decision engine’s coordinator notifier');
  return {
    conversations: runtimeDeps.conversations,
    coordinators: runtimeDeps.actions.ports.coordinators,
    events: runtimeDeps.billing.events,
    ...(runtimeDeps.events ? { turnEvents: runtimeDeps.events } : {}),
    now: runtimeDeps.now,
  };
};
/** Staff messages go out with the inbound worker's senders, secrets and channel rules. */
const staffDeps: StaffMessageDeps = {
  ...respondDeps,
  conversations: runtimeDeps.conversations,
  customers: runtimeDeps.customers,
  agents: runtimeDeps.agents,
};

async function agentTools(tenantId: string, agentId: string) {
  const agent = await agents.get(tenantId, agentId);
  if (!agent) throw new NotFoundError('Agent', agentId);
  return {
    tools: agent.tools,
    // Enabled tools this platform can run, and enabled actions (which the decision engine gates).
    available: [
      ...toolsFor(agent).map((tool) => tool.name),
      ...actionsOf(agent).map((action) => action.name),
    ],
    toolSettings: agent.toolSettings,
  };
}

/** A finished turn is a 200; one that ran out of time and goes on in the queue, a 202. */
function chatReply(outcome: ChatResult | DeferredChat) {
  return isDeferredChat(outcome) ? { body: outcome, status: 202 as const } : { body: outcome };
}

const serve = createHttpHandler(
  RUNTIME_ROUTES,
  {
    'POST /v1/agents/{id}/chat': async ({ principal, params, body, event, remainingTimeMs }) => {
      const key = idempotencyKey(event);
      await admitTurn(turnAdmission, principal.tenantId, params.id);
      const deadline = turnDeadlineOf(remainingTimeMs());
      return chatReply(
        await chat(
          runtimeDeps,
          principal,
          params.id,
          { ...body, ...(deadline !== undefined ? { deadline } : {}) },
          key,
        ),
      );
    },
    'POST /v1/agent/process': async ({ principal, body, event, remainingTimeMs }) => {
      const key = idempotencyKey(event);
      await admitTurn(turnAdmission, principal.tenantId, body.agentId);
      const deadline = turnDeadlineOf(remainingTimeMs());
      return chatReply(
        await chat(
          runtimeDeps,
          principal,
          body.agentId,
          {
            message: body.message,
            channel: 'web',
            ...(body.context ? { context: body.context } : {}),
            ...(body.conversationId ? { conversationId: body.conversationId } : {}),
            ...(body.locationId ? { locationId: body.locationId } : {}),
            ...(deadline !== undefined ? { deadline } : {}),
          },
          key,
        ),
      );
    },
    'POST /v1/agents/{id}/execute': async ({ principal, params, body, event, remainingTimeMs }) => {
      const key = idempotencyKey(event);
      await admitTurn(turnAdmission, principal.tenantId, params.id);
      const deadline = turnDeadlineOf(remainingTimeMs());
      const execution = await executeTask(
        runtimeDeps,
        principal,
        params.id,
        { ...body, ...(deadline !== undefined ? { deadline } : {}) },
        key,
      );
      return { body: execution, ...(execution.status === 'PENDING' ? { status: 202 } : {}) };
    },
    'GET /v1/agents/{id}/executions': async ({ principal, params, query }) => ({
      body: await listExecutions(runtimeDeps, principal, params.id, query),
    }),
    'GET /v1/executions/{id}': async ({ principal, params }) => ({
      body: await getExecution(runtimeDeps, principal, params.id),
    }),
    'GET /v1/conversations': async ({ principal, query }) => ({
      body: await listConversations(runtimeDeps, principal, query),
    }),
    'GET /v1/conversations/{id}': async ({ principal, params }) => ({
      body: await getConversation(runtimeDeps, principal, params.id),
    }),
    'GET /v1/conversations/{id}/messages': async ({ principal, params, query }) => ({
      body: await listMessages(runtimeDeps, principal, params.id, query),
    }),
    'GET /v1/conversations/{id}/export': async ({ principal, params, query }) => {
      const exported = await exportConversation(runtimeDeps, principal, params.id);
      if (query.format === 'json') return { body: exported };
      return {
        raw: { contentType: 'text/csv; charset=utf-8', body: messagesToCsv(exported.messages) },
        headers: { 'content-disposition': `attachment; filename="${params.id}.csv"` },
      };
    },
    'POST /v1/conversations/{id}/pause': async ({ principal, params }) => ({
      body: await setConversationStatus(runtimeDeps, principal, params.id, 'paused'),
    }),
    'POST /v1/conversations/{id}/resume': async ({ principal, params }) => ({
      body: await setConversationStatus(runtimeDeps, principal, params.id, 'active'),
    }),
    'POST /v1/conversations/{id}/handoff': async ({ principal, params, body }) => {
      const { conversation } = await handOffConversation(
        handoffDeps(),
        principal.tenantId,
        params.id,
        { kind: 'user', id: principal.userId },
        body.reason,
      );
      return { body: conversationView(conversation) };
    },
    // The channel's credentials are the tenant's secrets: read in its scope.
    'POST /v1/conversations/{id}/messages': async ({ principal, params, body }) => ({
      body: await inTenantScope(principal.tenantId, () =>
        sendStaffMessage(staffDeps, principal, params.id, body.text),
      ),
    }),
    'POST /v1/conversations/{id}/resume-agent': async ({ principal, params }) => ({
      body: await resumeAgentInConversation(handoffDeps(), principal.tenantId, params.id, principal.userId),
    }),
    'POST /v1/conversations/{id}/archive': async ({ principal, params }) => ({
      body: await setConversationStatus(runtimeDeps, principal, params.id, 'archived'),
    }),
    'GET /v1/tools': async () => ({
      body: {
        items: [
          ...listTools().map((tool) => ({ ...specOf(tool), category: tool.category, kind: 'tool' })),
          ...listActionDefinitions().map((action) => ({
            ...actionSpecOf(action),
            category: action.category,
            kind: 'action',
            permission: action.permission,
            defaultLevel: action.defaultLevel,
            tokenCost: runtimeDeps.billing.costs[action.cost],
          })),
        ],
      },
    }),
    'GET /v1/agents/{id}/tools': async ({ principal, params }) => ({
      body: await agentTools(principal.tenantId, params.id),
    }),
    'PUT /v1/agents/{id}/tools': async ({ principal, params, body, expectedVersion }) => {
      const patch = { tools: body.tools, ...(body.toolSettings ? { toolSettings: body.toolSettings } : {}) };
      await updateAgent(agentDeps, principal, params.id, patch, expectedVersion);
      return { body: await agentTools(principal.tenantId, params.id) };
    },
    'GET /v1/tools/executions': async ({ principal, query }) => ({
      body: await runtimeDeps.executions.listToolRuns(principal.tenantId, query),
    }),
  },
  runtimeHttpDeps,
);

/** Turn events published while serving (a chat turn, an approval decided) are delivered before the Lambda returns. */
export const handler: typeof serve = async (event, context) => {
  try {
    return await serve(event, context);
  } finally {
    await drainTurnEvents();
  }
};
