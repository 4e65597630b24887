import * as z from 'zod/mini';
import { ACTION_NAMES, ACTION_STATUSES, DECISION_LEVELS } from '../../domain/actions/model';
import { policyBody } from '../../domain/actions/policy';
import { APPROVAL_STATUSES } from '../../domain/approvals/model';
import { AUDIT_TYPES } from '../../domain/audit/model';
import { idSchema } from '../../domain/shared/ids';
import { pageQueryFields } from '../../domain/shared/pagination';
import { lazySchema, text } from '../../domain/shared/zod';
import type { RouteGroup } from '../route-spec';
import { agentParams, pageOf } from './shared';

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
    kind: z.optional(z.enum(['sms', 'whatsapp', 'email', 'call', 'payment'])),
  }),
);

// Response shapes, for the OpenAPI document.
const actionError = () => z.object({ code: z.string(), message: z.string() });
const actionResponse = lazySchema(() =>
  z.object({
    id: z.string(),
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
    createdAt: z.string(),
    updatedAt: z.string(),
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
const approvalResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    actionId: z.string(),
    agentId: z.string(),
    action: z.enum(ACTION_NAMES),
    params: z.record(z.string(), z.unknown()),
    level: z.enum(['consultation', 'approval']),
    reason: z.string(),
    status: z.enum(APPROVAL_STATUSES),
    requestedBy: z.string(),
    locationId: z.optional(z.string()),
    createdAt: z.string(),
    expiresAt: z.string(),
    decidedBy: z.optional(z.string()),
    decidedAt: z.optional(z.string()),
    comment: z.optional(z.string()),
    updatedAt: z.string(),
  }),
);
const policyResponse = lazySchema(() =>
  z.object({
    rules: z.array(z.record(z.string(), z.unknown())),
    maxActionsPerTurn: z.int(),
    approvalTimeoutSeconds: z.int(),
    version: z.int(),
    updatedAt: z.string(),
    updatedBy: z.string(),
  }),
);
const auditResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    type: z.enum(AUDIT_TYPES),
    at: z.string(),
    actor: z.object({ kind: z.enum(['user', 'agent', 'system', 'operator']), id: z.string() }),
    agentId: z.optional(z.string()),
    actionId: z.optional(z.string()),
    approvalId: z.optional(z.string()),
    outcome: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
);
const stopResponse = lazySchema(() =>
  z.object({
    stop: z.object({
      agentId: z.optional(z.string()),
      reason: z.string(),
      stoppedBy: z.string(),
      stoppedAt: z.string(),
    }),
    pausedAgents: z.int(),
    cancelledApprovals: z.int(),
    cancelledSuggestions: z.int(),
  }),
);
const outboxResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    kind: z.string(),
    to: z.optional(z.string()),
    subject: z.optional(z.string()),
    body: z.optional(z.string()),
    createdAt: z.string(),
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
  },
  'POST /v1/suggestions/{id}/decline': {
    lambda: 'actions',
    permission: 'agents:run',
    summary: 'Decline a suggested action: nothing runs, its tokens are given back',
    params: actionParams,
    status: 200,
    response: actionOutcomeResponse,
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
    summary: 'Replace the decision policy: rules by action, category and parameter thresholds (If-Match)',
    body: policyBody,
    status: 200,
    response: policyResponse,
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
  },
  'POST /v1/approvals/{id}/reject': {
    lambda: 'actions',
    permission: 'approvals:decide',
    summary: 'Reject: the action does not run and its tokens are given back (decided once; 409 after)',
    params: approvalParams,
    body: decisionBody,
    status: 200,
    response: approvalResponse,
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
  },
} as const satisfies RouteGroup<'actions'>;
