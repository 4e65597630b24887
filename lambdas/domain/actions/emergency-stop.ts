import { resumeWorkflow, tellWatchers } from '../approvals/approvals';
import { domainEvent } from '../events/events';
import { NO_TURN_EVENTS, publishTurnEvent } from '../runtime/turn-events';
import { NotFoundError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Principal } from '../shared/principal';
import type { ActionDeps } from './deps';
import { appendAudit, closeAction, publishEvents } from './execute';
import type { ActionRecord, EmergencyStop } from './model';

/**
 * Emergency stop (DESIGN §3.10): one call pauses an agent — or every agent of the tenant — at
 * once, cancels what is waiting for a person (approvals and suggestions, their tokens given back)
 * and makes the decision engine refuse new actions (tenant-wide: until the stop is lifted). It is
 * final: no action moves to executing once the stop item is written or the agent paused (the
 * move checks both in its transaction), and the call returns once the actions already executing
 * have finished — `stoppedAt` is that moment, and nothing is delivered after it.
 * Agents are paused one conditional write each; an agent someone else stopped or deleted meanwhile
 * keeps that state.
 */
export interface EmergencyStopResult {
  readonly stop: EmergencyStop;
  readonly pausedAgents: number;
  readonly cancelledApprovals: number;
  readonly cancelledSuggestions: number;
}

const AGENT_PAGE = 100;
/** A stop waits this long, at most, for the actions that were already executing to finish. */
const DRAIN_TIMEOUT_MS = 10_000;
const DRAIN_POLL_MS = 20;
/** An action executing for longer is taken as abandoned (its process died), not waited for. */
const ABANDONED_AFTER_MS = 120_000;

/**
 * Waits until no action of the tenant (or agent) is executing: the ones that moved to executing
 * before the stop took hold finish (or fail) first, so that once the stop call returns nothing
 * more is delivered. New ones cannot start (`startExecution` checks the stop and the agent).
 * Reads the status index (gsi1): on AWS an action that started in the last instant may show up
 * there a little late, within the index's propagation delay.
 */
async function drainExecuting(deps: ActionDeps, tenantId: string, agentId?: string): Promise<void> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const now = deps.now().getTime();
    const running = (await deps.actions.listAllInStatus(tenantId, 'executing', agentId)).filter(
      (action) => now - Date.parse(action.updatedAt) < ABANDONED_AFTER_MS,
    );
    if (running.length === 0) return;
    if (performance.now() >= deadline) {
      deps.log?.error('An emergency stop returned while actions were still executing', {
        tenantId,
        ...(agentId ? { agentId } : {}),
        actionIds: running.map((action) => action.id),
      });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}
/** Stopping moves these to paused; stopped, draft and deleted agents stay as they are. */
const PAUSABLE = ['active', 'provisioning', 'error'] as const;

async function pauseAgent(
  deps: ActionDeps,
  tenantId: string,
  agentId: string,
  actor: string,
): Promise<boolean> {
  try {
    const moved = await deps.agents.transition(tenantId, agentId, PAUSABLE, 'paused', actor);
    return 'agent' in moved;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

/**
 * Tells the watchers of the action's conversation (and of its agent) that the stop cancelled it,
 * as the turn that decided it told them it was waiting: an approvals inbox or a playground
 * following over the WebSocket sees it go without reloading. An action outside a conversation
 * (none to follow) is not told.
 */
function tellCancelled(deps: ActionDeps, action: ActionRecord): void {
  if (!deps.turnEvents || deps.turnEvents === NO_TURN_EVENTS || !action.conversationId) return;
  publishTurnEvent(
    deps.turnEvents,
    {
      tenantId: action.tenantId,
      agentId: action.agentId,
      conversationId: action.conversationId,
      ...(action.executionId ? { executionId: action.executionId } : {}),
    },
    {
      type: 'agent_action',
      action: action.action,
      actionId: action.id,
      level: action.decision.level,
      outcome: 'cancelled',
    },
    deps.log,
  );
}

async function cancelWaiting(
  deps: ActionDeps,
  tenantId: string,
  actor: string,
  agentId?: string,
): Promise<{ approvals: number; suggestions: number }> {
  const at = deps.now().toISOString();
  const [pending, suggestions] = await Promise.all([
    deps.approvals.listPending(tenantId, agentId),
    deps.actions.listAllInStatus(tenantId, 'awaiting_confirmation', agentId),
  ]);
  let approvals = 0;
  for (const approval of pending) {
    const decided = await deps.approvals.decide(tenantId, approval.id, 'cancelled', {
      userId: actor,
      at,
      comment: 'emergency stop',
    });
    if (!('approval' in decided)) continue;
    approvals += 1;
    // The workflow closes the action and releases its tokens when it resumes with `cancelled`;
    // closing it here as well makes the stop take effect even if the workflow is slow to resume.
    await closeAction(deps, tenantId, approval.actionId, 'cancelled', actor);
    await resumeWorkflow(deps, decided.approval, 'cancelled');
    // Closed here or by the workflow it resumed: either way the approval's action is cancelled.
    const action = await deps.actions.get(tenantId, approval.actionId);
    if (action) tellCancelled(deps, action);
    await tellWatchers(deps, decided.approval, 'cancelled');
  }
  let cancelledSuggestions = 0;
  for (const suggestion of suggestions) {
    const closed = await closeAction(deps, tenantId, suggestion.id, 'cancelled', actor);
    if (closed.outcome !== 'cancelled') continue;
    cancelledSuggestions += 1;
    tellCancelled(deps, suggestion);
  }
  return { approvals, suggestions: cancelledSuggestions };
}

async function record(deps: ActionDeps, result: EmergencyStopResult): Promise<void> {
  const { stop } = result;
  await appendAudit(deps, [
    {
      id: newId('audit'),
      tenantId: stop.tenantId,
      type: 'emergency.stopped',
      at: stop.stoppedAt,
      actor: { kind: 'user', id: stop.stoppedBy },
      ...(stop.agentId ? { agentId: stop.agentId } : {}),
      outcome: 'stopped',
      details: {
        scope: stop.agentId ? 'agent' : 'tenant',
        reason: stop.reason,
        pausedAgents: result.pausedAgents,
        cancelledApprovals: result.cancelledApprovals,
        cancelledSuggestions: result.cancelledSuggestions,
      },
    },
  ]);
  await publishEvents(deps, [
    domainEvent(
      'emergency.stopped',
      {
        tenantId: stop.tenantId,
        ...(stop.agentId ? { agentId: stop.agentId } : {}),
        reason: stop.reason,
        stoppedBy: stop.stoppedBy,
        cancelledApprovals: result.cancelledApprovals,
      },
      deps.now(),
    ),
  ]);
}

export async function stopAgent(
  deps: ActionDeps,
  principal: Principal,
  agentId: string,
  reason: string,
): Promise<EmergencyStopResult> {
  const agent = await deps.agents.get(principal.tenantId, agentId);
  if (!agent) throw new NotFoundError('Agent', agentId);
  const stop: EmergencyStop = {
    tenantId: principal.tenantId,
    agentId,
    reason,
    stoppedBy: principal.userId,
    stoppedAt: deps.now().toISOString(),
  };
  const paused = await pauseAgent(deps, principal.tenantId, agentId, principal.userId);
  const cancelled = await cancelWaiting(deps, principal.tenantId, principal.userId, agentId);
  await drainExecuting(deps, principal.tenantId, agentId);
  const result = {
    // From here on the agent delivers nothing more: what was under way has finished.
    stop: { ...stop, stoppedAt: deps.now().toISOString() },
    pausedAgents: paused ? 1 : 0,
    cancelledApprovals: cancelled.approvals,
    cancelledSuggestions: cancelled.suggestions,
  };
  await record(deps, result);
  return result;
}

export async function stopTenant(
  deps: ActionDeps,
  principal: Principal,
  reason: string,
): Promise<EmergencyStopResult> {
  const stop: EmergencyStop = {
    tenantId: principal.tenantId,
    reason,
    stoppedBy: principal.userId,
    stoppedAt: deps.now().toISOString(),
  };
  // The stop is in force before anything else moves: from here on no new action is decided.
  await deps.stops.setTenantStop(stop);
  let pausedAgents = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.agents.list(principal.tenantId, {
      limit: AGENT_PAGE,
      sort: 'createdAt',
      order: 'asc',
      ...(cursor === undefined ? {} : { cursor }),
    });
    const moved = await Promise.all(
      page.items
        .filter((agent) => (PAUSABLE as readonly string[]).includes(agent.status))
        .map((agent) => pauseAgent(deps, principal.tenantId, agent.id, principal.userId)),
    );
    pausedAgents += moved.filter(Boolean).length;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const cancelled = await cancelWaiting(deps, principal.tenantId, principal.userId);
  await drainExecuting(deps, principal.tenantId);
  // `stoppedAt` is when the stop took full effect: nothing is delivered after it.
  const stoppedAt = deps.now().toISOString();
  await deps.stops.stampTenantStop(principal.tenantId, stoppedAt);
  const result = {
    stop: { ...stop, stoppedAt },
    pausedAgents,
    cancelledApprovals: cancelled.approvals,
    cancelledSuggestions: cancelled.suggestions,
  };
  await record(deps, result);
  return result;
}

export async function getTenantStop(
  deps: ActionDeps,
  principal: Principal,
): Promise<EmergencyStop | undefined> {
  return deps.stops.getTenantStop(principal.tenantId);
}

/** Lifts the tenant-wide stop: actions may be decided again. Agents stay paused until resumed. */
export async function liftTenantStop(deps: ActionDeps, principal: Principal): Promise<void> {
  const stop = await deps.stops.getTenantStop(principal.tenantId);
  if (!stop) throw new NotFoundError('Emergency stop');
  await deps.stops.clearTenantStop(principal.tenantId);
  await appendAudit(deps, [
    {
      id: newId('audit'),
      tenantId: principal.tenantId,
      type: 'emergency.lifted',
      at: deps.now().toISOString(),
      actor: { kind: 'user', id: principal.userId },
      outcome: 'lifted',
      details: { stoppedAt: stop.stoppedAt, reason: stop.reason },
    },
  ]);
}
