import type { Agent } from '../agents/schemas';
import type { Approval } from '../approvals/model';
import { MAX_HOLD_SECONDS, reserve } from '../billing/billing';
import { InsufficientBalanceError, TenantSuspendedError } from '../billing/errors';
import { AppError, messageOf } from '../shared/errors';
import { newId } from '../shared/ids';
import { toStorableJson } from '../shared/zod';
import { type ActingUser, userMay } from '../tenants/rbac';
import { findAction } from './catalog';
import type { ActionDefinition } from './definition';
import type { ActionDeps } from './deps';
import {
  appendAudit,
  auditEntry,
  carryOut,
  closeAction,
  releaseHold,
  SYSTEM_ACTOR,
  stopErrorOf,
} from './execute';
import type { ActionRecord, ActionStatus, Decision, DecisionLevel, Policy } from './model';
import { DEFAULT_POLICY, resolveLevel } from './policy';

/**
 * The decision engine (DESIGN §3.6). Every action a model proposes comes through `propose`:
 * validate the parameters, check the emergency stop, the acting user's permission (at the
 * action's location), the per-turn limit and the tenant's policy, reserve the tokens, then act on
 * the decision level: automatic runs now; suggestion waits for the user to confirm; consultation
 * and approval start the approval workflow. Whatever the model says, nothing runs that these
 * checks refuse; every step is in the audit log.
 */

/** Who the agent acts for and where: the action runs with exactly this user's permissions. */
export interface ActingContext {
  readonly tenantId: string;
  readonly agent: Agent;
  readonly actor: ActingUser & { readonly userId: string };
  readonly locationId?: string;
  readonly conversationId?: string;
  readonly customerId?: string;
  readonly executionId?: string;
}

/** What was decided about one proposed action, and why: returned to the caller and the model. */
export interface ActionOutcome {
  readonly actionId: string;
  readonly action: string;
  readonly status: ActionStatus;
  readonly level?: Decision['level'];
  readonly reason: string;
  readonly cost: number;
  readonly approvalId?: string;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly message: string };
}

/** A suggestion holds its tokens this long for the user to confirm; confirming later is refused. */
export const SUGGESTION_HOLD_SECONDS = 3600;
/** An automatic action holds its tokens only while it runs (the billing minimum). */
const AUTOMATIC_HOLD_SECONDS = 300;
/** An approval's hold outlives its wait by this much, so the workflow closes it, not housekeeping. */
const APPROVAL_HOLD_MARGIN_SECONDS = 900;

export function outcomeOf(record: ActionRecord): ActionOutcome {
  return {
    actionId: record.id,
    action: record.action,
    status: record.status,
    level: record.decision.level,
    reason: record.decision.reason,
    cost: record.cost,
    ...(record.approvalId ? { approvalId: record.approvalId } : {}),
    ...(record.result ? { result: record.result } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

function holdSecondsFor(level: DecisionLevel, policy: Policy | undefined): number {
  if (level === 'automatic') return AUTOMATIC_HOLD_SECONDS;
  if (level === 'suggestion') return SUGGESTION_HOLD_SECONDS;
  const timeout = policy?.approvalTimeoutSeconds ?? DEFAULT_POLICY.approvalTimeoutSeconds;
  return Math.min(MAX_HOLD_SECONDS, timeout + APPROVAL_HOLD_MARGIN_SECONDS);
}

const STATUS_BY_LEVEL: Record<DecisionLevel, ActionStatus> = {
  automatic: 'executing',
  suggestion: 'awaiting_confirmation',
  consultation: 'awaiting_approval',
  approval: 'awaiting_approval',
};

/** The actions of one turn: the ones offered to the model, and what became of each proposal. */
export interface ActionGate {
  readonly offered: readonly ActionDefinition[];
  readonly outcomes: readonly ActionOutcome[];
  propose(name: string, rawParams: unknown): Promise<ActionOutcome>;
}

/** The actions enabled on the agent (its `tools` that are actions). */
export function actionsOf(agent: Agent): ActionDefinition[] {
  return agent.tools.flatMap((name) => {
    const definition = findAction(name);
    return definition ? [definition] : [];
  });
}

export async function openActionGate(
  deps: ActionDeps,
  context: ActingContext,
  /** What earlier parts of this turn decided (a turn resumed after its deadline): they count too. */
  earlier: readonly ActionOutcome[] = [],
): Promise<ActionGate> {
  const offered = actionsOf(context.agent);
  const policy = offered.length > 0 ? await deps.policies.get(context.tenantId) : undefined;
  const outcomes: ActionOutcome[] = [...earlier];
  return {
    offered,
    outcomes,
    async propose(name, rawParams) {
      const outcome = await propose(deps, context, policy, outcomes.length, name, rawParams);
      outcomes.push(outcome);
      return outcome;
    },
  };
}

/** One proposal, start to decision (and, for automatic actions, to the end). */
export async function propose(
  deps: ActionDeps,
  context: ActingContext,
  policy: Policy | undefined,
  proposedBefore: number,
  name: string,
  rawParams: unknown,
): Promise<ActionOutcome> {
  const definition = findAction(name);
  if (!definition || !context.agent.tools.includes(definition.name)) {
    // Not an action this agent has: nothing is recorded, the model is told.
    return {
      actionId: '',
      action: name,
      status: 'denied',
      reason: `no action ${name} is enabled on this agent`,
      cost: 0,
    };
  }
  const at = deps.now().toISOString();
  const id = newId('action');
  const parsed = definition.input().safeParse(rawParams);
  // Refused parameters are recorded as the model sent them, made storable (a `__proto__` key, an
  // out-of-range number): the refusal must be recorded, not fail the turn.
  const params = parsed.success
    ? parsed.data
    : rawParams && typeof rawParams === 'object' && !Array.isArray(rawParams)
      ? (toStorableJson(rawParams) as Record<string, unknown>)
      : {};
  const locationId =
    (parsed.success ? definition.locationOf?.(parsed.data) : undefined) ?? context.locationId;
  const cost = deps.billing.costs[definition.cost];
  const base: ActionRecord = {
    id,
    tenantId: context.tenantId,
    agentId: context.agent.id,
    action: definition.name,
    category: definition.category,
    params,
    status: 'denied',
    decision: { level: 'denied', reason: '' },
    actorUserId: context.actor.userId,
    ...(locationId ? { locationId } : {}),
    ...(context.conversationId ? { conversationId: context.conversationId } : {}),
    ...(context.executionId ? { executionId: context.executionId } : {}),
    cost,
    createdAt: at,
    updatedAt: at,
  };
  const proposed = auditEntry(
    base,
    'action.proposed',
    at,
    { kind: 'agent', id: context.agent.id },
    'proposed',
    {
      actorUserId: context.actor.userId,
      ...(context.executionId ? { executionId: context.executionId } : {}),
    },
  );

  const deny = async (reason: string, level: Decision['level'] = 'denied', ruleIndex?: number) => {
    const record: ActionRecord = {
      ...base,
      decision: { level, reason, ...(ruleIndex === undefined ? {} : { ruleIndex }) },
    };
    await deps.actions.create(record);
    await appendAudit(deps, [
      proposed,
      auditEntry(record, 'action.denied', at, { kind: 'system', id: SYSTEM_ACTOR }, 'denied', { reason }),
    ]);
    return outcomeOf(record);
  };

  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
    return deny(`invalid parameters: ${why}`);
  }
  const [stop, agent] = await Promise.all([
    deps.stops.getTenantStop(context.tenantId),
    deps.agents.get(context.tenantId, context.agent.id),
  ]);
  if (stop) return deny(`the tenant is under an emergency stop (${stop.reason})`);
  if (agent?.status !== 'active') {
    return deny(`agent ${context.agent.id} is ${agent ? agent.status : 'deleted'}; it takes no actions`);
  }
  if (!userMay(context.actor, definition.permission, locationId)) {
    return deny(
      `the acting user lacks ${definition.permission}${locationId ? ` at location ${locationId}` : ''}`,
    );
  }
  const limit = policy?.maxActionsPerTurn ?? DEFAULT_POLICY.maxActionsPerTurn;
  if (proposedBefore >= limit) {
    return deny(`the policy allows at most ${limit} action${limit === 1 ? '' : 's'} per turn`);
  }
  const decision = resolveLevel(definition, params, policy, context.agent.id);
  if (decision.level === 'denied') return deny(decision.reason, 'denied', decision.ruleIndex);
  const level = decision.level;

  let reservationId: string | undefined;
  if (cost > 0) {
    try {
      const reservation = await reserve(
        deps.billing,
        context.tenantId,
        cost,
        {
          action: definition.name,
          agentId: context.agent.id,
          ...(context.executionId ? { executionId: context.executionId } : {}),
          holdSeconds: holdSecondsFor(level, policy),
        },
        `${id}:reserve`,
        context.actor.userId,
      );
      reservationId = reservation.id;
    } catch (error) {
      if (error instanceof InsufficientBalanceError || error instanceof TenantSuspendedError) {
        return deny(`${error.message} (${definition.name} costs ${cost} tokens)`);
      }
      throw error;
    }
  }

  const approvalId = level === 'consultation' || level === 'approval' ? newId('approval') : undefined;
  const record: ActionRecord = {
    ...base,
    status: STATUS_BY_LEVEL[level],
    decision,
    ...(reservationId ? { reservationId } : {}),
    ...(approvalId ? { approvalId } : {}),
  };
  const decided = auditEntry(record, 'action.decided', at, { kind: 'system', id: SYSTEM_ACTOR }, level, {
    reason: decision.reason,
    cost,
  });
  if (level === 'automatic') {
    // Created executing only if no emergency stop came in since the check above (one transaction).
    const started = await deps.actions.startExecution(record, 'new', at);
    if ('record' in started) {
      await appendAudit(deps, [proposed, decided]);
      return outcomeOf(await carryOut(deps, started.record, agent));
    }
    if (!('stopped' in started)) throw new Error(`Action ${id} was created twice`);
    const error = stopErrorOf(started, record.agentId);
    const cancelled: ActionRecord = { ...record, status: 'cancelled', error };
    await deps.actions.create(cancelled);
    await releaseHold(deps, cancelled);
    await appendAudit(deps, [
      proposed,
      decided,
      auditEntry(cancelled, 'action.cancelled', at, { kind: 'system', id: SYSTEM_ACTOR }, 'cancelled', {
        error,
      }),
    ]);
    return outcomeOf(cancelled);
  }
  await deps.actions.create(record);
  await appendAudit(deps, [proposed, decided]);
  if (approvalId && (level === 'consultation' || level === 'approval')) {
    return outcomeOf(await requestApproval(deps, record, approvalId, level, policy));
  }
  return outcomeOf(record);
}

async function requestApproval(
  deps: ActionDeps,
  record: ActionRecord,
  approvalId: string,
  level: 'consultation' | 'approval',
  policy: Policy | undefined,
): Promise<ActionRecord> {
  const timeout = policy?.approvalTimeoutSeconds ?? DEFAULT_POLICY.approvalTimeoutSeconds;
  const approval: Approval = {
    id: approvalId,
    tenantId: record.tenantId,
    actionId: record.id,
    agentId: record.agentId,
    action: record.action,
    params: record.params,
    level,
    reason: record.decision.reason,
    status: 'pending',
    requestedBy: record.actorUserId,
    ...(record.locationId ? { locationId: record.locationId } : {}),
    createdAt: record.createdAt,
    expiresAt: new Date(Date.parse(record.createdAt) + timeout * 1000).toISOString(),
    updatedAt: record.createdAt,
  };
  await deps.approvals.create(approval);
  try {
    await deps.workflow.start({ tenantId: record.tenantId, approvalId, actionId: record.id });
    return record;
  } catch (error) {
    // Without a running workflow nobody could ever approve it: close it now and give the tokens back.
    deps.log?.error('Could not start the approval workflow', {
      approvalId,
      error: messageOf(error),
    });
    await deps.approvals.decide(record.tenantId, approvalId, 'cancelled', {
      userId: SYSTEM_ACTOR,
      at: deps.now().toISOString(),
      comment: 'the approval workflow could not be started',
    });
    await closeAction(deps, record.tenantId, record.id, 'failed', SYSTEM_ACTOR);
    const closed = await deps.actions.get(record.tenantId, record.id);
    if (!closed) throw new AppError(500, 'INTERNAL', 'The action vanished', undefined, false);
    return closed;
  }
}
