import type { ActionDeps } from '../actions/deps';
import { appendAudit, publishEvents } from '../actions/execute';
import { domainEvent } from '../events/events';
import { NO_TURN_EVENTS, publishTurnEvent } from '../runtime/turn-events';
import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Principal } from '../shared/principal';
import { actingUserOf } from '../tenants/acting-user';
import { type ActingUser, userMay } from '../tenants/rbac';
import type { Approval, ApprovalListFilter, ApprovalStatus } from './model';

/**
 * The approvals API's use cases. A decision is one conditional write from `pending` — so of an
 * approve and a reject racing, exactly one wins and the other gets 409 — and only the winner
 * resumes the waiting workflow, which then executes or releases the action.
 */

/**
 * The caller's current record: who may see and decide approvals is their role, grants and
 * locations as they are now. A user limited to some locations sees and decides only the
 * approvals at those; an approval without a location takes a tenant-wide right.
 */
async function approver(deps: ActionDeps, principal: Principal): Promise<ActingUser> {
  const user = await actingUserOf(deps.users, principal);
  if (!user) throw new ForbiddenError('Your user no longer exists in this tenant');
  return user;
}

function mayView(user: ActingUser, approval: Approval): boolean {
  if (user.locationIds.length === 0) return true;
  return approval.locationId !== undefined && user.locationIds.includes(approval.locationId);
}

function mayDecide(user: ActingUser, approval: Approval): boolean {
  if (approval.locationId === undefined) {
    return user.locationIds.length === 0 && userMay(user, 'approval:decide');
  }
  return userMay(user, 'approval:decide', approval.locationId);
}

/** The approval and its reader, read together; outside the reader's locations it does not exist for them (404). */
async function approvalFor(
  deps: ActionDeps,
  principal: Principal,
  approvalId: string,
): Promise<{ approval: Approval; user: ActingUser }> {
  const [approval, user] = await Promise.all([
    deps.approvals.get(principal.tenantId, approvalId),
    approver(deps, principal),
  ]);
  if (!approval || !mayView(user, approval)) throw new NotFoundError('Approval', approvalId);
  return { approval, user };
}

export async function getApproval(
  deps: ActionDeps,
  principal: Principal,
  approvalId: string,
): Promise<Approval> {
  return (await approvalFor(deps, principal, approvalId)).approval;
}

export async function listApprovals(deps: ActionDeps, principal: Principal, filter: ApprovalListFilter) {
  const user = await approver(deps, principal);
  return deps.approvals.list(principal.tenantId, {
    ...filter,
    ...(user.locationIds.length > 0 ? { locationIds: user.locationIds } : {}),
  });
}

export async function decideApproval(
  deps: ActionDeps,
  principal: Principal,
  approvalId: string,
  decision: 'approved' | 'rejected',
  comment: string | undefined,
): Promise<Approval> {
  const { approval: existing, user } = await approvalFor(deps, principal, approvalId);
  // The route lets coordinators and admins in; their locations and grants decide which are theirs.
  if (!mayDecide(user, existing)) {
    throw new ForbiddenError(
      existing.locationId
        ? `You may not decide approvals at location ${existing.locationId}`
        : 'An approval without a location takes a tenant-wide right to decide approvals',
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

/**
 * `approval.decided` on the bus; best effort, like every event (a failure is logged). Watchers of
 * the conversation whose turn asked for it hear it too (`approval_decided`).
 */
export async function publishApprovalDecided(
  deps: ActionDeps,
  approval: Approval,
  outcome: Exclude<ApprovalStatus, 'pending'>,
  decidedBy: string,
): Promise<void> {
  await tellWatchers(deps, approval, outcome);
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

/**
 * Tells the watchers of the conversation whose turn asked for the approval that it was decided.
 * The turn that proposed the action names its conversation; only then is there anyone to tell.
 * Never fails the caller.
 */
export async function tellWatchers(
  deps: ActionDeps,
  approval: Approval,
  outcome: Exclude<ApprovalStatus, 'pending'>,
): Promise<void> {
  if (!deps.turnEvents || deps.turnEvents === NO_TURN_EVENTS) return;
  try {
    const action = await deps.actions.get(approval.tenantId, approval.actionId);
    if (!action?.conversationId) return;
    publishTurnEvent(
      deps.turnEvents,
      {
        tenantId: approval.tenantId,
        agentId: approval.agentId,
        conversationId: action.conversationId,
        ...(action.executionId ? { executionId: action.executionId } : {}),
      },
      { type: 'approval_decided', approvalId: approval.id, decision: outcome },
      deps.log,
    );
  } catch (error) {
    deps.log?.error('Could not tell watchers of an approval decided', {
      approvalId: approval.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
