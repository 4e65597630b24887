import type { ActionDeps } from '../actions/deps';
import { type ActionStepOutcome, appendAudit, closeAction, executeApprovedAction } from '../actions/execute';
import type { AuditEntry } from '../audit/model';
import { domainEvent } from '../events/events';
import { newId } from '../shared/ids';
import { publishApprovalDecided } from './approvals';
import type { Approval, ApprovalStatus } from './model';

/**
 * The steps of the approval workflow (statemachines/approval.asl.json), one use case per Task.
 * Step Functions retries a step whose Lambda failed, and may run one twice, so every step is
 * idempotent: it reads the approval and the action and does only what is still to be done. The
 * approval's `expiresAt` is the deadline; the state machine only asks, from time to time, whether
 * it has passed (see `checkDecision`).
 */

/** Who the audit log and the approval say expired or cancelled an approval. */
export const APPROVALS_ACTOR = 'system:approvals';

/** How a coordinator decides; the notification says so. */
export const approvePath = (approvalId: string) => `POST /v1/approvals/${approvalId}/approve`;
export const rejectPath = (approvalId: string) => `POST /v1/approvals/${approvalId}/reject`;

/** Parameters shown to coordinators are cut here: enough to judge, never a wall of text. */
const MAX_PARAMS_CHARS = 600;

export interface ApprovalStepInput {
  readonly tenantId: string;
  readonly approvalId: string;
  readonly actionId: string;
}

/** What a step returns; the state machine keeps `outcome` only. */
export interface ApprovalStepResult {
  readonly outcome: string;
  readonly [detail: string]: unknown;
}

/** The approval is not there, or is another action's: the workflow was started wrongly. */
export class ApprovalStepError extends Error {
  constructor(
    readonly code: 'APPROVAL_NOT_FOUND' | 'APPROVAL_MISMATCH',
    message: string,
  ) {
    super(message);
    this.name = `Approval.${code}`;
  }
}

async function approvalOf(deps: ActionDeps, input: ApprovalStepInput): Promise<Approval> {
  const approval = await deps.approvals.get(input.tenantId, input.approvalId);
  if (!approval) {
    throw new ApprovalStepError('APPROVAL_NOT_FOUND', `Approval ${input.approvalId} does not exist`);
  }
  if (approval.actionId !== input.actionId) {
    throw new ApprovalStepError(
      'APPROVAL_MISMATCH',
      `Approval ${input.approvalId} belongs to action ${approval.actionId}, not ${input.actionId}`,
    );
  }
  return approval;
}

function approvalAudit(
  approval: Approval,
  type: AuditEntry['type'],
  at: string,
  outcome: string,
  details: Record<string, unknown> = {},
): AuditEntry {
  return {
    id: newId('audit'),
    tenantId: approval.tenantId,
    type,
    at,
    actor: { kind: 'system', id: APPROVALS_ACTOR },
    agentId: approval.agentId,
    actionId: approval.actionId,
    approvalId: approval.id,
    outcome,
    details: { action: approval.action, ...details },
  };
}

/**
 * RecordRequest: the audit entry `approval.requested` and the `approval.requested` event, once.
 * A retry finds its audit entry and does nothing; a retry after the event but before the entry
 * publishes the event again (the bus is at-least-once anyway). Errors are thrown, for the retry.
 */
export async function recordApprovalRequest(
  deps: ActionDeps,
  input: ApprovalStepInput & { readonly executionId: string },
): Promise<ApprovalStepResult> {
  const approval = await approvalOf(deps, input);
  const earlier = await deps.audit.list(input.tenantId, {
    type: 'approval.requested',
    actionId: input.actionId,
    limit: 10,
  });
  if (earlier.items.some((entry) => entry.approvalId === approval.id)) {
    return { outcome: 'already_recorded' };
  }
  const at = deps.now().toISOString();
  await deps.billing.events.publish([
    domainEvent(
      'approval.requested',
      {
        tenantId: approval.tenantId,
        agentId: approval.agentId,
        actionId: approval.actionId,
        action: approval.action,
        approvalId: approval.id,
        level: approval.level,
        reason: approval.reason,
        expiresAt: approval.expiresAt,
      },
      deps.now(),
    ),
  ]);
  await deps.audit.append([
    approvalAudit(approval, 'approval.requested', at, 'pending', {
      level: approval.level,
      reason: approval.reason,
      expiresAt: approval.expiresAt,
      // Which execution waits on it, so the audit log leads to the execution history: its name
      // only (the last part of the ARN), since tenants read the audit log.
      workflowExecutionId: input.executionId.slice(input.executionId.lastIndexOf(':') + 1),
    }),
  ]);
  return { outcome: 'recorded' };
}

/** The action's parameters in one line, cut to a readable length. */
export function summariseParams(params: Record<string, unknown>): string {
  const text = Object.entries(params)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ');
  return text.length > MAX_PARAMS_CHARS ? `${text.slice(0, MAX_PARAMS_CHARS - 1)}…` : text;
}

/** The notification's subject and body: what, why, until when, and how to decide. */
export function approvalMessage(approval: Approval): { subject: string; body: string } {
  const kind = approval.level === 'approval' ? 'Approval' : 'Consultation';
  return {
    subject: `${kind} needed: ${approval.action} (${approval.id})`,
    body: [
      `An agent (${approval.agentId}) wants to run ${approval.action} and needs a coordinator's decision.`,
      '',
      `Action: ${approval.action}`,
      `Parameters: ${summariseParams(approval.params) || '(none)'}`,
      `Why it needs a person: ${approval.reason}`,
      `Requested for: ${approval.requestedBy}`,
      ...(approval.locationId ? [`Location: ${approval.locationId}`] : []),
      `Expires: ${approval.expiresAt} (then it is not run and its tokens are released)`,
      '',
      `To approve: ${approvePath(approval.id)}`,
      `To reject:  ${rejectPath(approval.id)}`,
      'Either accepts an optional {"comment": "..."}; the first decision wins.',
    ].join('\n'),
  };
}

/**
 * NotifyCoordinators: tells the tenant's coordinators (their channel and the bus). Skipped once
 * the approval is decided. A failure is thrown for the state machine, which retries a provider's
 * transient failure and otherwise goes on to wait: the approval is in the coordinators' inbox.
 */
export async function notifyApprovers(
  deps: ActionDeps,
  input: ApprovalStepInput,
): Promise<ApprovalStepResult> {
  const approval = await approvalOf(deps, input);
  if (approval.status !== 'pending') return { outcome: 'skipped', status: approval.status };
  const { recipients } = await deps.ports.coordinators.notify(approval.tenantId, {
    ...approvalMessage(approval),
    agentId: approval.agentId,
    approvalId: approval.id,
    ...(approval.locationId ? { locationId: approval.locationId } : {}),
  });
  return { outcome: 'notified', recipients };
}

/**
 * WaitForDecision's Lambda: stores the task token with the approval, while it is pending (a
 * later wait of the same execution replaces it). When the approval was decided before the token
 * was stored — an emergency stop or a quick coordinator found no token to resume — it resumes the
 * workflow itself, at once, with that decision.
 */
export async function attachDecisionToken(
  deps: ActionDeps,
  input: ApprovalStepInput & { readonly taskToken: string; readonly executionId: string },
): Promise<ApprovalStepResult> {
  const attached = await deps.approvals.attachTaskToken(
    input.tenantId,
    input.approvalId,
    input.taskToken,
    input.executionId,
  );
  if (attached) return { outcome: 'waiting' };
  const approval = await approvalOf(deps, input);
  if (approval.status === 'pending') {
    // Refused, yet pending: the item changed between the write and this read (or is not
    // readable yet). Thrown, so the state machine retries the step with a fresh token.
    throw new Error(`Approval ${approval.id} could not take the task token while pending`);
  }
  const resumed = await deps.workflow.resume(input.taskToken, { outcome: approval.status });
  return { outcome: resumed ? 'resumed' : 'not_waiting', status: approval.status };
}

/**
 * CheckDecision, the wait's periodic check-in (its HeartbeatSeconds ran out): pending before its
 * expiresAt → wait again; decided → that decision (its resume was lost); pending after it →
 * expired. The state machine routes on the outcome.
 */
export async function checkDecision(
  deps: ActionDeps,
  input: ApprovalStepInput,
): Promise<{ outcome: ApprovalStatus }> {
  const approval = await approvalOf(deps, input);
  if (approval.status !== 'pending') return { outcome: approval.status };
  return deps.now().getTime() >= Date.parse(approval.expiresAt)
    ? { outcome: 'expired' }
    : { outcome: 'pending' };
}

/** ExecuteAction: runs the approved action once (see `executeApprovedAction`). */
export function executeApproved(deps: ActionDeps, input: ApprovalStepInput): Promise<ActionStepOutcome> {
  return executeApprovedAction(deps, input.tenantId, input.actionId);
}

export type CloseOutcome = 'rejected' | 'expired' | 'cancelled' | 'failed';

/** What the approval becomes when the workflow closes it itself, if still pending. */
const APPROVAL_CLOSED_AS: Partial<Record<CloseOutcome, 'expired' | 'cancelled'>> = {
  expired: 'expired',
  // The workflow gave up: a pending approval nobody can act on any more is withdrawn.
  failed: 'cancelled',
};

/**
 * Close, Expire and ReleaseFailed: the action will not run. An expiring (or failed) workflow
 * first decides a still-pending approval itself, so it leaves the inbox and a late approve gets
 * 409; then the action moves to the outcome and its tokens are released. Idempotent.
 */
export async function closeUnapproved(
  deps: ActionDeps,
  input: ApprovalStepInput & { readonly outcome: CloseOutcome },
): Promise<ActionStepOutcome> {
  const closedAs = APPROVAL_CLOSED_AS[input.outcome];
  if (closedAs) {
    const at = deps.now().toISOString();
    const decided = await deps.approvals.decide(input.tenantId, input.approvalId, closedAs, {
      userId: APPROVALS_ACTOR,
      at,
      comment:
        closedAs === 'expired'
          ? 'No coordinator decided before the approval expired'
          : 'The approval workflow failed',
    });
    // Already decided (a coordinator, the emergency stop, a retry of this step): nothing to record.
    if ('approval' in decided) await recordSystemDecision(deps, decided.approval, closedAs, at);
  }
  return closeAction(deps, input.tenantId, input.actionId, input.outcome, APPROVALS_ACTOR);
}

async function recordSystemDecision(
  deps: ActionDeps,
  approval: Approval,
  outcome: 'expired' | 'cancelled',
  at: string,
): Promise<void> {
  // The decision is made; its record and event must not fail the step (a retry would find the
  // approval decided and skip them), so they are logged instead.
  await appendAudit(deps, [
    approvalAudit(approval, outcome === 'expired' ? 'approval.expired' : 'approval.decided', at, outcome),
  ]);
  await publishApprovalDecided(deps, approval, outcome, APPROVALS_ACTOR);
}
