import * as z from 'zod/mini';
import type { OutboxKind } from '../../adapters/local/local-outbox';
import { ACTION_NAMES, ACTION_STATUSES, DECISION_LEVELS } from '../../domain/actions/model';
import { policyBody, policyRuleSchema } from '../../domain/actions/policy';
import { APPROVAL_STATUSES } from '../../domain/approvals/model';
import { AUDIT_TYPES } from '../../domain/audit/model';
import { idSchema } from '../../domain/shared/ids';
import { pageQueryFields } from '../../domain/shared/pagination';
import { instant, lazySchema, text } from '../../domain/shared/zod';
import type { RouteGroup } from '../route-spec';
import { agentParams, pageOf } from './shared';

// The local outbox's kinds (a type-only import: the route table never loads the adapter).
const OUTBOX_KINDS = [
  'sms',
  'whatsapp',
  'email',
  'call',
  'payment',
  'slack',
  'telegram',
  'messenger',
  'instagram',
] as const satisfies readonly OutboxKind[];

const actionParams = lazySchema(() => z.strictObject({ id: idSchema('action') }));
const approvalParams = lazySchema(() => z.strictObject({ id: idSchema('approval') }));
const actionsQuery = lazySchema(() =>
  z.strictObject({
    ...pageQueryFields(),
    agentId: z.optional(idSchema('agent')),
    status: z.optional(z.enum(ACTION_STATUSES)),
  }),
);
const approvalsQuery = lazySchema(() =>
  z.strictObject({ ...pageQueryFields(), status: z.optional(z.enum(APPROVAL_STATUSES)) }),
);
const isoInstant = () => z.iso.datetime({ offset: true });
const auditQuery = lazySchema(() =>
  z
    .strictObject({
      ...pageQueryFields(),
      from: z.optional(isoInstant()),
      to: z.optional(isoInstant()),
      type: z.optional(z.enum(AUDIT_TYPES)),
      agentId: z.optional(idSchema('agent')),
      actorId: z.optional(text(1, 100)),
      actionId: z.optional(idSchema('action')),
    })
    .check(
      z.refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
        message: 'must be after from',
        path: ['to'],
      }),
    ),
);
// Both may be sent without a body at all.
const decisionBody = lazySchema(() => z.optional(z.strictObject({ comment: z.optional(text(1, 1000)) })));
const stopBody = lazySchema(() => z.optional(z.strictObject({ reason: z.optional(text(1, 500)) })));
const outboxQuery = lazySchema(() =>
  z.strictObject({
    ...pageQueryFields(),
    kind: z.optional(z.enum(OUTBOX_KINDS)),
  }),
);

// Response shapes, for the OpenAPI document.
const actionError = () => z.object({ code: z.string(), message: z.string() });
export const actionResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    agentId: z.string(),
    action: z.enum(ACTION_NAMES),
    category: z.string(),
    params: z.record(z.string(), z.unknown()),
    status: z.enum(ACTION_STATUSES),
    decision: z.object({
      level: z.enum([...DECISION_LEVELS, 'denied']),
      reason: z.string(),
      ruleIndex: z.optional(z.int()),
    }),
    actorUserId: z.string(),
    locationId: z.optional(z.string()),
    conversationId: z.optional(z.string()),
    executionId: z.optional(z.string()),
    cost: z.int(),
    reservationId: z.optional(z.string()),
    approvalId: z.optional(z.string()),
    result: z.optional(z.record(z.string(), z.unknown())),
    error: z.optional(actionError()),
    createdAt: instant(),
    updatedAt: instant(),
  }),
);
export const actionOutcomeResponse = lazySchema(() =>
  z.object({
    actionId: z.string(),
    action: z.string(),
    status: z.enum(ACTION_STATUSES),
    level: z.optional(z.enum([...DECISION_LEVELS, 'denied'])),
    reason: z.string(),
    cost: z.int(),
    approvalId: z.optional(z.string()),
    result: z.optional(z.record(z.string(), z.unknown())),
    error: z.optional(actionError()),
  }),
);
export const approvalResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    actionId: z.string(),
    agentId: z.string(),
    action: z.enum(ACTION_NAMES),
    params: z.record(z.string(), z.unknown()),
    level: z.enum(['consultation', 'approval']),
    reason: z.string(),
    status: z.enum(APPROVAL_STATUSES),
    requestedBy: z.string(),
    locationId: z.optional(z.string()),
    createdAt: instant(),
    expiresAt: instant(),
    decidedBy: z.optional(z.string()),
    decidedAt: z.optional(instant()),
    comment: z.optional(z.string()),
    updatedAt: instant(),
  }),
);
export const policyResponse = lazySchema(() =>
  z.object({
    tenantId: z.string(),
    rules: z.array(policyRuleSchema()),
    maxActionsPerTurn: z.int(),
    approvalTimeoutSeconds: z.int(),
    version: z.int(),
    updatedAt: instant(),
    updatedBy: z.string(),
  }),
);
export const auditResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    type: z.enum(AUDIT_TYPES),
    at: instant(),
    actor: z.object({ kind: z.enum(['user', 'agent', 'system', 'operator']), id: z.string() }),
    agentId: z.optional(z.string()),
    actionId: z.optional(z.string()),
    approvalId: z.optional(z.string()),
    outcome: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
);
export const emergencyStopResponse = lazySchema(() =>
  z.object({
    tenantId: z.string(),
    /** Absent: the whole tenant is stopped. */
    agentId: z.optional(z.string()),
    reason: z.string(),
    stoppedBy: z.string(),
    stoppedAt: instant(),
  }),
);
const stopResponse = lazySchema(() =>
  z.object({
    stop: emergencyStopResponse(),
    pausedAgents: z.int(),
    cancelledApprovals: z.int(),
    cancelledSuggestions: z.int(),
  }),
);
export const outboxResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    tenantId: z.string(),
    kind: z.enum(OUTBOX_KINDS),
    to: z.optional(z.string()),
    subject: z.optional(z.string()),
    body: z.optional(z.string()),
    amountMinor: z.optional(z.int()),
    currency: z.optional(z.string()),
    description: z.optional(z.string()),
    customerId: z.optional(z.string()),
    agentId: z.optional(z.string()),
    purpose: z.optional(z.string()),
    from: z.optional(z.string()),
    contentSid: z.optional(z.string()),
    inReplyTo: z.optional(z.string()),
    references: z.optional(z.string()),
    slackChannel: z.optional(z.string()),
    threadTs: z.optional(z.string()),
    method: z.optional(
      z.enum(['setWebhook', 'deleteWebhook']).check(
        z.meta({
          description: "A provider call that configures a channel (Telegram's setWebhook/deleteWebhook)",
        }),
      ),
    ),
    url: z.optional(z.string()),
    secretToken: z.optional(
      z
        .string()
        .check(
          z.meta({ description: 'setWebhook: the secret token Telegram would send back (local mode only)' }),
        ),
    ),
    createdAt: instant(),
  }),
);

export const ACTION_ROUTES = {
  'GET /v1/actions': {
    lambda: 'actions',
    permission: 'actions:read',
    summary: 'Actions agents proposed, newest first: decision, status, result (filter by agent, status)',
    query: actionsQuery,
    status: 200,
    response: pageOf(actionResponse),
  },
  'GET /v1/actions/{id}': {
    lambda: 'actions',
    permission: 'actions:read',
    summary: 'One action: parameters, decision and why, tokens, result or error',
    params: actionParams,
    status: 200,
    response: actionResponse,
  },
  'POST /v1/suggestions/{id}/confirm': {
    lambda: 'actions',
    costed: true,
    permission: 'agents:run',
    summary: 'Confirm a suggested action: it runs now, with your permissions (once; 409 after)',
    params: actionParams,
    status: 200,
    response: actionOutcomeResponse,
    errors: { 409: 'The suggestion is no longer awaiting confirmation (decided, expired or stopped)' },
  },
  'POST /v1/suggestions/{id}/decline': {
    lambda: 'actions',
    permission: 'agents:run',
    summary: 'Decline a suggested action: nothing runs, its tokens are given back',
    params: actionParams,
    status: 200,
    response: actionOutcomeResponse,
    errors: {
      503: 'The token balance is busy (giving the tokens back); retry',
      409: 'The suggestion is no longer awaiting confirmation',
    },
  },
  'GET /v1/policies': {
    lambda: 'actions',
    permission: 'policies:read',
    summary: "The tenant's decision policy (the defaults until one is set, version 0)",
    status: 200,
    response: policyResponse,
  },
  'PUT /v1/policies': {
    lambda: 'actions',
    permission: 'policies:write',
    summary:
      'Replace the decision policy: rules by action, category and parameter thresholds, each for every agent or, with `agentId`, for one agent (an agent of this tenant: 400 naming `body.rules.N.agentId` otherwise) (If-Match)',
    body: policyBody,
    status: 200,
    response: policyResponse,
    ifMatch: true,
  },
  'GET /v1/approvals': {
    lambda: 'actions',
    permission: 'approvals:read',
    summary: 'Approval requests, newest first (filter by status)',
    query: approvalsQuery,
    status: 200,
    response: pageOf(approvalResponse),
  },
  'GET /v1/approvals/{id}': {
    lambda: 'actions',
    permission: 'approvals:read',
    summary: 'One approval request',
    params: approvalParams,
    status: 200,
    response: approvalResponse,
  },
  'POST /v1/approvals/{id}/approve': {
    lambda: 'actions',
    permission: 'approvals:decide',
    summary: 'Approve: the waiting workflow runs the action (decided once; 409 after)',
    params: approvalParams,
    body: decisionBody,
    status: 200,
    response: approvalResponse,
    errors: { 409: 'The approval was already decided, or expired' },
  },
  'POST /v1/approvals/{id}/reject': {
    lambda: 'actions',
    permission: 'approvals:decide',
    summary: 'Reject: the action does not run and its tokens are given back (decided once; 409 after)',
    params: approvalParams,
    body: decisionBody,
    status: 200,
    response: approvalResponse,
    errors: {
      503: 'The token balance is busy (giving the tokens back); retry',
      409: 'The approval was already decided, or expired',
    },
  },
  'GET /v1/audit': {
    lambda: 'actions',
    permission: 'audit:read',
    summary: 'The audit log, newest first: actions, approvals, admin changes (filters, time range, cursor)',
    query: auditQuery,
    status: 200,
    response: pageOf(auditResponse),
  },
  'POST /v1/agents/{id}/emergency-stop': {
    lambda: 'actions',
    permission: 'agents:operate',
    summary: 'Emergency stop of one agent: paused at once, its pending approvals and suggestions cancelled',
    params: agentParams,
    body: stopBody,
    status: 200,
    response: stopResponse,
  },
  'POST /v1/tenant/emergency-stop': {
    lambda: 'actions',
    permission: 'tenant:write',
    summary:
      'Emergency stop of the tenant: every agent paused, approvals cancelled, no new actions until lifted',
    body: stopBody,
    status: 200,
    response: stopResponse,
  },
  'GET /v1/tenant/emergency-stop': {
    lambda: 'actions',
    permission: 'tenant:read',
    summary: 'Whether a tenant-wide emergency stop is in force (404 when none)',
    status: 200,
    response: emergencyStopResponse,
    errors: { 404: 'No tenant-wide stop is in force' },
  },
  'DELETE /v1/tenant/emergency-stop': {
    lambda: 'actions',
    permission: 'tenant:write',
    summary: 'Lift the tenant-wide stop: actions may be decided again (agents stay paused until resumed)',
    status: 204,
  },
  'GET /v1/dev/outbox': {
    lambda: 'actions',
    localOnly: true,
    permission: 'actions:read',
    summary: 'Local mode only: what actions sent (SMS, WhatsApp, email, calls, payments), newest first',
    query: outboxQuery,
    status: 200,
    response: pageOf(outboxResponse),
    errors: { 404: 'Outside local mode' },
  },
} as const satisfies RouteGroup<'actions'>;
