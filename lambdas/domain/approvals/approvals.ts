import type { ActionDeps } from '../actions/deps';
import { appendAudit, publishEvents } from '../actions/execute';
import { domainEvent } from '../events/events';
import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Principal } from '../shared/principal';
import { actingUserOf } from '../tenants/acting-user';
import { userMay } from '../tenants/rbac';
import type { Approval, ApprovalListFilter, ApprovalStatus } from './model';

/**
 * The approvals API's use cases. A decision is one conditional write from `pending` — so of an
 * approve and a reject racing, exactly one wins and the other gets 409 — and only the winner
 * resumes the waiting workflow, which then executes or releases the action.
 */

export async function getApproval(
  deps: ActionDeps,
  principal: Principal,
  approvalId: string,
): Promise<Approval> {
  const approval = await deps.approvals.get(principal.tenantId, approvalId);
  if (!approval) throw new NotFoundError('Approval', approvalId);
  return approval;
}

export function listApprovals(deps: ActionDeps, principal: Principal, filter: ApprovalListFilter) {
  return deps.approvals.list(principal.tenantId, filter);
}

export async function decideApproval(
  deps: ActionDeps,
  principal: Principal,
  approvalId: string,
  decision: 'approved' | 'rejected',
  comment: string | undefined,
): Promise<Approval> {
  const existing = await getApproval(deps, principal, approvalId);
  const user = await actingUserOf(deps.users, principal);
  // The route lets coordinators and admins in; their location decides which approvals are theirs.
  if (!user || !userMay(user, 'approval:decide', existing.locationId)) {
    throw new ForbiddenError(
      `You may not decide approvals${existing.locationId ? ` at location ${existing.locationId}` : ''}`,
    );
  }
  const now = deps.now();
  if (existing.status === 'pending' && now.getTime() >= Date.parse(existing.expiresAt)) {
    // Its workflow expires it at its next check-in; a decision now would arrive too late to count.
    throw new ConflictError(`Approval ${approvalId} expired at ${existing.expiresAt}`, { status: 'expired' });
  }
  const at = now.toISOString();
  const decided = await deps.approvals.decide(principal.tenantId, approvalId, decision, {
    userId: principal.userId,
    at,
    ...(comment ? { comment } : {}),
  });
  if (!('approval' in decided)) {
    if (decided.refusedFrom === 'missing') throw new NotFoundError('Approval', approvalId);
    throw new ConflictError(`Approval ${approvalId} is already ${decided.refusedFrom}`, {
      status: decided.refusedFrom,
    });
  }
  const approval = decided.approval;
  await appendAudit(deps, [
    {
      id: newId('audit'),
      tenantId: approval.tenantId,
      type: 'approval.decided',
      at,
      actor: { kind: 'user', id: principal.userId },
      agentId: approval.agentId,
      actionId: approval.actionId,
      approvalId: approval.id,
      outcome: decision,
      details: { action: approval.action, ...(comment ? { comment } : {}) },
    },
  ]);
  await resumeWorkflow(deps, approval, decision);
  await publishApprovalDecided(deps, approval, decision, principal.userId);
  return approval;
}

/** `approval.decided` on the bus; best effort, like every event (a failure is logged). */
export async function publishApprovalDecided(
  deps: ActionDeps,
  approval: Approval,
  outcome: Exclude<ApprovalStatus, 'pending'>,
  decidedBy: string,
): Promise<void> {
  await publishEvents(deps, [
    domainEvent(
      'approval.decided',
      {
        tenantId: approval.tenantId,
        agentId: approval.agentId,
        actionId: approval.actionId,
        action: approval.action,
        approvalId: approval.id,
        outcome,
        decidedBy,
      },
      deps.now(),
    ),
  ]);
}

/**
 * Tells the waiting workflow. No token yet means the workflow has not reached its wait: its wait
 * step sees the decision and resumes itself. A token no longer waited on means it timed out first:
 * its expiry step closes the action, so nothing runs late.
 */
export async function resumeWorkflow(
  deps: ActionDeps,
  approval: Approval,
  outcome: Exclude<ApprovalStatus, 'pending'>,
): Promise<void> {
  const token = await deps.approvals.taskToken(approval.tenantId, approval.id);
  if (!token) return;
  const resumed = await deps.workflow.resume(token, { outcome });
  if (!resumed) {
    deps.log?.error('The approval workflow was no longer waiting for this decision', {
      approvalId: approval.id,
      outcome,
    });
  }
}
