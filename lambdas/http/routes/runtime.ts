import * as z from 'zod/mini';
import { agentToolsBody, CHANNEL_TYPES, TOOL_NAMES } from '../../domain/agents/schemas';
import { CONVERSATION_STATUSES } from '../../domain/conversations/conversations';
import { BUSINESS_WEB_ID, PLATFORM_WEB_ID_RULE } from '../../domain/conversations/customers';
import { EXECUTION_STATUSES } from '../../domain/runtime/executions';
import { idSchema } from '../../domain/shared/ids';
import { pageQueryFields } from '../../domain/shared/pagination';
import { e164Phone, instant, lazySchema, storableRecord, text } from '../../domain/shared/zod';
import type { RouteGroup } from '../route-spec';
import { actionOutcomeResponse } from './actions';
import { agentParams, pageOf } from './shared';

const chatBody = lazySchema(() =>
  z.strictObject({
    message: text(1, 8000),
    channel: z._default(z.enum(CHANNEL_TYPES), 'web'),
    /** Who is talking: the phone on sms/whatsapp/voice, the email on email, an external id elsewhere. */
    customer: z.optional(
      z.strictObject({
        phone: z.optional(e164Phone()),
        email: z.optional(z.email().check(z.maxLength(254))),
        externalId: z.optional(text(1, 200).check(z.regex(BUSINESS_WEB_ID, PLATFORM_WEB_ID_RULE))),
        name: z.optional(text(1, 120)),
      }),
    ),
  }),
);
/** Free-form facts for the turn (an order number, a page the customer is on). */
const turnContext = () => storableRecord();
const processBody = lazySchema(() =>
  z.strictObject({
    agentId: idSchema('agent'),
    message: text(1, 8000),
    context: z.optional(turnContext()),
    /** Continue this conversation; without it, the acting user's own web conversation with the agent. */
    conversationId: z.optional(idSchema('conversation')),
    /** Where you act, when you belong to several locations; the agent's actions are checked there. */
    locationId: z.optional(idSchema('location')),
  }),
);
const executeBody = lazySchema(() =>
  z.strictObject({
    task: text(1, 8000),
    context: z.optional(turnContext()),
    async: z._default(z.boolean(), false),
  }),
);
const executionParams = lazySchema(() => z.strictObject({ id: idSchema('execution') }));
const conversationParams = lazySchema(() => z.strictObject({ id: idSchema('conversation') }));
const handoffBody = lazySchema(() => z._default(z.strictObject({ reason: z.optional(text(1, 500)) }), {}));
const staffMessageBody = lazySchema(() => z.strictObject({ text: text(1, 4000) }));
const executionsQuery = lazySchema(() =>
  z.strictObject({ ...pageQueryFields(), status: z.optional(z.enum(EXECUTION_STATUSES)) }),
);
const conversationsQuery = lazySchema(() =>
  z.strictObject({
    ...pageQueryFields(),
    agentId: z.optional(idSchema('agent')),
    customerId: z.optional(idSchema('customer')),
    channel: z.optional(z.enum(CHANNEL_TYPES)),
    status: z.optional(z.enum(CONVERSATION_STATUSES)),
  }),
);
const messagesQuery = lazySchema(() =>
  z.strictObject({ ...pageQueryFields(), order: z._default(z.enum(['asc', 'desc']), 'asc') }),
);
const exportQuery = lazySchema(() => z.strictObject({ format: z._default(z.enum(['json', 'csv']), 'json') }));
const toolRunsQuery = lazySchema(() =>
  z.strictObject({
    ...pageQueryFields(),
    agentId: z.optional(idSchema('agent')),
    tool: z.optional(z.enum(TOOL_NAMES)),
  }),
);

// Response shapes, for the OpenAPI document.
const usage = () => z.object({ inputTokens: z.int(), outputTokens: z.int(), modelCalls: z.int() });
const toolCall = () =>
  z.object({
    name: z.string(),
    status: z.enum(['succeeded', 'failed']),
    durationMs: z.number(),
    error: z.optional(z.string()),
  });
export const executionResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    agentId: z.string(),
    kind: z.enum(['chat', 'task']),
    status: z.enum(EXECUTION_STATUSES),
    input: z.object({
      message: z.optional(z.string()),
      task: z.optional(z.string()),
      context: z.optional(z.record(z.string(), z.unknown())),
    }),
    channel: z.optional(z.enum(CHANNEL_TYPES)),
    conversationId: z.optional(z.string()),
    customerId: z.optional(z.string()),
    /** The model that ran it, as configured on the agent then. */
    provider: z.string(),
    modelId: z.string(),
    output: z.optional(
      z.object({ reply: z.string(), actions: z.optional(z.array(actionOutcomeResponse())) }),
    ),
    toolCalls: z.array(toolCall()),
    usage: usage(),
    costUsd: z.number(),
    priced: z.boolean(),
    latencyMs: z.optional(z.number()),
    error: z.optional(z.object({ code: z.string(), message: z.string() })),
    statusHistory: z.array(z.object({ status: z.enum(EXECUTION_STATUSES), at: instant() })),
    createdBy: z.string(),
    createdAt: instant(),
    updatedAt: instant(),
  }),
);
export const chatResponse = lazySchema(() =>
  z.object({
    executionId: z.string(),
    conversationId: z.string(),
    customerId: z.string(),
    reply: z.string(),
    toolCalls: z.array(toolCall()),
    usage: usage(),
    costUsd: z.number(),
    latencyMs: z.number(),
    actions: z.array(actionOutcomeResponse()),
  }),
);
/** A turn that ran out of time: it goes on in the execution queue. */
export const deferredChatResponse = lazySchema(() =>
  z.object({
    deferred: z.literal(true),
    executionId: z.string(),
    conversationId: z.string(),
    customerId: z.string(),
    status: z.literal('PENDING'),
  }),
);
const DEFERRED_CHAT = {
  202: {
    description:
      'The turn ran out of time: the step it was in finished, what ran is recorded, and the rest goes on in the execution queue (nothing runs twice). Poll GET /v1/executions/{executionId} (or subscribe to the conversation over the WebSocket) until COMPLETED; the reply is then its `output.reply` and in the conversation',
    response: deferredChatResponse,
  },
} as const;
export const conversationResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    agentId: z.string(),
    channel: z.enum(CHANNEL_TYPES),
    customerId: z.string(),
    status: z.enum(CONVERSATION_STATUSES),
    messageCount: z.int(),
    summary: z.optional(z.string()),
    createdAt: instant(),
    updatedAt: instant(),
    lastMessageAt: z.optional(instant()),
  }),
);
const toolCallSummary = () => z.object({ name: z.string(), status: z.enum(['succeeded', 'failed']) });
export const messageResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    conversationId: z.string(),
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    /** Tool calls the assistant made while producing this message. */
    toolCalls: z.optional(z.array(toolCallSummary())),
    executionId: z.string(),
    inputTokens: z.optional(z.int()),
    outputTokens: z.optional(z.int()),
    createdAt: instant(),
    /** A person's message (human handoff): the user who wrote it. */
    sentBy: z.optional(z.string()),
    /** A customer message that came in on a messaging channel: the provider's id of it. */
    providerMessageId: z.optional(z.string()),
    /** The agent did not answer this customer message, and why. */
    unanswered: z.optional(z.object({ code: z.string(), reason: z.string() })),
    /** Sent on a messaging channel: the provider's message id and the latest delivery status. */
    delivery: z.optional(
      z.object({
        channel: z.string(),
        provider: z.string(),
        providerMessageId: z.string(),
        status: z.string(),
        updatedAt: instant(),
        error: z.optional(z.string()),
      }),
    ),
  }),
);
const conversationExportResponse = lazySchema(() =>
  z.object({
    conversation: conversationResponse(),
    messages: z.array(messageResponse()),
    /** More messages than an export holds (the oldest are in it). */
    truncated: z.boolean(),
  }),
);
export const toolRunResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    agentId: z.string(),
    executionId: z.string(),
    name: z.string(),
    input: z.unknown(),
    status: z.enum(['succeeded', 'failed']),
    output: z.optional(z.unknown()),
    error: z.optional(z.string()),
    durationMs: z.number(),
    createdAt: instant(),
  }),
);
const toolResponse = lazySchema(() =>
  z.object({
    name: z.string(),
    category: z.string(),
    description: z.string(),
    inputSchema: z.record(z.string(), z.unknown()),
    /** `action`s go through the decision engine; `tool`s only read. */
    kind: z.enum(['tool', 'action']),
    permission: z.optional(z.string()),
    defaultLevel: z.optional(z.string()),
    tokenCost: z.optional(z.int()),
  }),
);
const agentToolsResponse = lazySchema(() =>
  z.object({
    tools: z.array(z.enum(TOOL_NAMES)),
    available: z.array(z.string()),
    toolSettings: z.object({ httpAllowedHosts: z.array(z.string()) }),
  }),
);

/** What a turn answers besides success: idempotency (409) and a turn that failed part-way (5xx). */
const TURN_ERRORS = {
  409: 'The agent is not active or was deleted, the channel is not enabled on it, the conversation is paused, or its model provider is not configured here',
  500: 'The turn failed unexpectedly; `details.executionId` names the FAILED execution and `details.actions` every action it decided (executed ones included). A retry with the same Idempotency-Key returns this again and runs nothing',
  502: 'The model provider failed; `details.executionId` and `details.actions` as for 500',
} as const;

export const RUNTIME_ROUTES = {
  'POST /v1/agents/{id}/chat': {
    lambda: 'runtime',
    costed: true,
    rateLimited: true,
    permission: 'agents:run',
    summary: 'One chat turn with an active agent (send Idempotency-Key to make retries safe)',
    params: agentParams,
    body: chatBody,
    status: 200,
    response: chatResponse,
    otherResponses: DEFERRED_CHAT,
    idempotencyKey: 'optional',
    callsModel: true,
    errors: TURN_ERRORS,
  },
  'POST /v1/agent/process': {
    lambda: 'runtime',
    costed: true,
    rateLimited: true,
    permission: 'agents:run',
    summary:
      'Process a message as the signed-in user: the agent replies and proposes actions, each decided by the engine (permission, policy, tokens) and reported',
    body: processBody,
    status: 200,
    response: chatResponse,
    otherResponses: DEFERRED_CHAT,
    idempotencyKey: 'optional',
    callsModel: true,
    errors: { ...TURN_ERRORS, 404: 'The agent or conversation named in the body does not exist' },
  },
  'POST /v1/agents/{id}/execute': {
    lambda: 'runtime',
    costed: true,
    rateLimited: true,
    permission: 'agents:run',
    summary: 'Run a task: synchronously (200, the finished execution) or with async=true (202, queued)',
    params: agentParams,
    body: executeBody,
    status: 200,
    response: executionResponse,
    idempotencyKey: 'optional',
    // A failing model is recorded in the execution (status FAILED, `error`), not answered as 502.
    otherResponses: {
      202: {
        description:
          'Queued (async=true), or a synchronous task that ran out of time: what ran is recorded and the rest goes on in the execution queue from there. Poll GET /v1/executions/{id}',
        response: executionResponse,
      },
    },
    errors: {
      409: 'The agent is not active or was deleted, the channel is not enabled on it, the conversation is paused, or its model provider is not configured here',
    },
  },
  'GET /v1/agents/{id}/executions': {
    lambda: 'runtime',
    permission: 'agents:read',
    summary: "An agent's executions, newest first",
    params: agentParams,
    query: executionsQuery,
    status: 200,
    response: pageOf(executionResponse),
  },
  'GET /v1/executions/{id}': {
    lambda: 'runtime',
    permission: 'agents:read',
    summary: 'One execution: status history, output, tool calls, usage and cost',
    params: executionParams,
    status: 200,
    response: executionResponse,
  },
  'GET /v1/conversations': {
    lambda: 'runtime',
    permission: 'conversations:read',
    summary:
      'Conversations, most recently active first, by agent, customer, channel or status (combined with AND). The filters are applied to the activity-ordered listing, so a filtered page may hold fewer than `limit` items, even none, and still carry `nextCursor`: follow it until it is absent.',
    query: conversationsQuery,
    status: 200,
    response: pageOf(conversationResponse),
  },
  'GET /v1/conversations/{id}': {
    lambda: 'runtime',
    permission: 'conversations:read',
    summary: 'One conversation',
    params: conversationParams,
    status: 200,
    response: conversationResponse,
  },
  'GET /v1/conversations/{id}/messages': {
    lambda: 'runtime',
    permission: 'conversations:read',
    summary: "A conversation's messages",
    params: conversationParams,
    query: messagesQuery,
    status: 200,
    response: pageOf(messageResponse),
  },
  'GET /v1/conversations/{id}/export': {
    lambda: 'runtime',
    permission: 'conversations:read',
    summary: 'The whole conversation as JSON or CSV (format=csv)',
    params: conversationParams,
    query: exportQuery,
    status: 200,
    response: conversationExportResponse,
    alsoAs: ['text/csv'],
  },
  'POST /v1/conversations/{id}/pause': {
    lambda: 'runtime',
    permission: 'conversations:write',
    summary: 'Hand the conversation to a person: the agent stops answering in it',
    params: conversationParams,
    status: 200,
    response: conversationResponse,
  },
  'POST /v1/conversations/{id}/resume': {
    lambda: 'runtime',
    permission: 'conversations:write',
    summary: 'Let the agent answer in the conversation again',
    params: conversationParams,
    status: 200,
    response: conversationResponse,
  },
  'POST /v1/conversations/{id}/handoff': {
    lambda: 'runtime',
    permission: 'conversations:write',
    summary:
      'Hand the conversation to a person: the agent stops answering it, coordinators are notified; staff answer with POST …/messages',
    params: conversationParams,
    body: handoffBody,
    status: 200,
    response: conversationResponse,
    errors: { 409: 'The conversation is archived' },
  },
  'POST /v1/conversations/{id}/messages': {
    lambda: 'runtime',
    permission: 'conversations:write',
    summary:
      "A person's message in a handed-off conversation: stored in the transcript and sent on the conversation's channel (`delivery` says how it went)",
    params: conversationParams,
    body: staffMessageBody,
    status: 201,
    response: messageResponse,
    errors: {
      409: 'The conversation is not handed off (the agent answers it): POST …/handoff first',
      502: 'The channel provider failed; the message is stored, its delivery not recorded: send it again',
    },
  },
  'POST /v1/conversations/{id}/resume-agent': {
    lambda: 'runtime',
    permission: 'conversations:write',
    summary: 'Hand a handed-off (or paused) conversation back to the agent',
    params: conversationParams,
    status: 200,
    response: conversationResponse,
    errors: { 409: 'The conversation is archived' },
  },
  'POST /v1/conversations/{id}/archive': {
    lambda: 'runtime',
    permission: 'conversations:write',
    summary: 'Archive the conversation (a new message from the customer reopens it)',
    params: conversationParams,
    status: 200,
    response: conversationResponse,
  },
  'GET /v1/tools': {
    lambda: 'runtime',
    permission: 'agents:read',
    summary: 'The tools agents can use, with the JSON schema each is given to the model with',
    status: 200,
    response: lazySchema(() => z.object({ items: z.array(toolResponse()) })),
  },
  'GET /v1/agents/{id}/tools': {
    lambda: 'runtime',
    permission: 'agents:read',
    summary: "An agent's enabled tools and their settings",
    params: agentParams,
    status: 200,
    response: agentToolsResponse,
  },
  'PUT /v1/agents/{id}/tools': {
    lambda: 'runtime',
    permission: 'agents:write',
    summary: "Replace an agent's enabled tools, and their settings when given (a new configuration version)",
    params: agentParams,
    body: agentToolsBody,
    status: 200,
    response: agentToolsResponse,
    ifMatch: true,
  },
  'GET /v1/tools/executions': {
    lambda: 'runtime',
    permission: 'agents:read',
    summary: 'Tool runs, newest first: input, output, status, duration',
    query: toolRunsQuery,
    status: 200,
    response: pageOf(toolRunResponse),
  },
} as const satisfies RouteGroup<'runtime'>;
