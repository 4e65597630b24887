import type { Agent } from '../agents/schemas';
import type { AuditEntry, AuditType } from '../audit/model';
import { debit, release, settle } from '../billing/billing';
import { type DomainEvent, domainEvent } from '../events/events';
import { AppError, ConflictError, messageOf } from '../shared/errors';
import { newId } from '../shared/ids';
import { findAction } from './catalog';
import type { ActionDefinition } from './definition';
import type { ActionDeps } from './deps';
import type { ActionRecord, ActionStatus, ExecutionStart } from './model';
import { requesterRefusal } from './requester';

/**
 * Carrying out an action that has been decided, and closing one that will not run. Whoever runs
 * it (the decision engine for automatic actions, a confirmed suggestion, the approval workflow)
 * comes through here, so an action is executed once, paid once, and its tokens are released
 * whenever it does not run.
 */
export type ActionStepOutcome = {
  /** `refused`: approved, but its requester may no longer have it run (see requester.ts). */
  readonly outcome: 'executed' | 'failed' | 'rejected' | 'expired' | 'cancelled' | 'skipped' | 'refused';
  readonly error?: { readonly code: string; readonly message: string };
};

export const SYSTEM_ACTOR = 'system:actions';

export function auditEntry(
  record: Pick<ActionRecord, 'tenantId' | 'agentId' | 'id' | 'action'>,
  type: AuditType,
  at: string,
  actor: AuditEntry['actor'],
  outcome: string,
  details: Record<string, unknown> = {},
): AuditEntry {
  return {
    id: newId('audit'),
    tenantId: record.tenantId,
    type,
    at,
    actor,
    agentId: record.agentId,
    actionId: record.id,
    outcome,
    details: { action: record.action, ...details },
  };
}

/** The audit log is the record of what happened; a failure to write it is logged loudly, not thrown. */
export async function appendAudit(deps: ActionDeps, entries: readonly AuditEntry[]): Promise<void> {
  try {
    await deps.audit.append(entries);
  } catch (error) {
    deps.log?.error('Could not append to the audit log', {
      types: entries.map((e) => e.type),
      error: messageOf(error),
    });
  }
}

/** Events go out best effort, like every event of the platform: a failure is logged, not thrown. */
export async function publishEvents(deps: ActionDeps, events: readonly DomainEvent[]): Promise<void> {
  try {
    await deps.billing.events.publish(events);
  } catch (error) {
    const types = [...new Set(events.map((e) => e.type))].join(', ');
    deps.log?.error(`Could not publish ${types}`, { error: messageOf(error) });
  }
}

/** Why `startExecution` found the action may not run: the tenant's stop or the agent's state. */
export function stopErrorOf(
  started: Extract<ExecutionStart, { stopped: unknown }>,
  agentId: string,
): { code: string; message: string } {
  return {
    code: 'AGENT_STOPPED',
    message:
      started.stopped === 'tenant'
        ? 'The tenant is under an emergency stop'
        : `Agent ${agentId} is ${started.agentStatus ?? 'deleted'}`,
  };
}

function errorOf(error: unknown): { code: string; message: string } {
  return error instanceof AppError
    ? { code: error.code, message: error.message }
    : { code: 'INTERNAL', message: 'The action failed unexpectedly' };
}

export function definitionOf(record: ActionRecord): ActionDefinition {
  const definition = findAction(record.action);
  if (!definition) throw new Error(`Action ${record.action} is not in the registry`);
  return definition;
}

/** Charges what was held. A reservation housekeeping already gave back is charged directly instead. */
async function charge(deps: ActionDeps, record: ActionRecord): Promise<void> {
  if (!record.reservationId || record.cost === 0) return;
  try {
    await settle(
      deps.billing,
      record.tenantId,
      record.reservationId,
      record.cost,
      `${record.id}:settle`,
      SYSTEM_ACTOR,
    );
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    try {
      await debit(
        deps.billing,
        record.tenantId,
        record.cost,
        { action: record.action, agentId: record.agentId },
        `${record.id}:debit`,
        SYSTEM_ACTOR,
      );
    } catch (debitError) {
      deps.log?.error('An executed action could not be charged', {
        actionId: record.id,
        error: messageOf(debitError),
      });
    }
  }
}

/** Gives the held tokens back; already closed (e.g. by housekeeping) is fine. */
export async function releaseHold(deps: ActionDeps, record: ActionRecord): Promise<void> {
  if (!record.reservationId) return;
  try {
    await release(deps.billing, record.tenantId, record.reservationId, `${record.id}:release`, SYSTEM_ACTOR);
  } catch (error) {
    if (error instanceof ConflictError) return;
    deps.log?.error('Could not release an action reservation', {
      actionId: record.id,
      reservationId: record.reservationId,
      error: messageOf(error),
    });
  }
}

/**
 * Runs an action that is `executing` (the caller moved it there with a conditional write, so only
 * one caller gets here per action): executor, then charge on success or release on failure, then
 * the final status, audit entry and event. Provider failures come back as a `failed` record.
 */
export async function carryOut(deps: ActionDeps, record: ActionRecord, agent: Agent): Promise<ActionRecord> {
  const definition = definitionOf(record);
  let result: Record<string, unknown> | undefined;
  let failure: unknown;
  try {
    result = await definition.execute(record.params as never, {
      tenantId: record.tenantId,
      agent,
      actionId: record.id,
      actorUserId: record.actorUserId,
      ...(record.locationId ? { locationId: record.locationId } : {}),
      ...(record.conversationId ? { conversationId: record.conversationId } : {}),
      now: deps.now,
      ports: deps.ports,
    });
  } catch (error) {
    failure = error;
    if (!(error instanceof AppError)) {
      deps.log?.error('An action executor failed unexpectedly', {
        actionId: record.id,
        action: record.action,
        error: messageOf(error),
      });
    }
  }
  const at = deps.now().toISOString();
  if (failure === undefined) {
    await charge(deps, record);
    const done = await finalTransition(deps, record, {
      status: 'executed',
      updatedAt: at,
      result: result ?? {},
    });
    await appendAudit(deps, [
      auditEntry(done, 'action.executed', at, actorOf(record), 'executed', { cost: record.cost }),
    ]);
    await publishEvents(deps, [
      domainEvent(
        'action.executed',
        { tenantId: record.tenantId, agentId: record.agentId, actionId: record.id, action: record.action },
        deps.now(),
      ),
    ]);
    return done;
  }
  const error = errorOf(failure);
  await releaseHold(deps, record);
  const failed = await finalTransition(deps, record, { status: 'failed', updatedAt: at, error });
  await appendAudit(deps, [auditEntry(failed, 'action.failed', at, actorOf(record), 'failed', { error })]);
  await publishEvents(deps, [
    domainEvent(
      'action.failed',
      {
        tenantId: record.tenantId,
        agentId: record.agentId,
        actionId: record.id,
        action: record.action,
        code: error.code,
      },
      deps.now(),
    ),
  ]);
  return failed;
}

function actorOf(record: ActionRecord): AuditEntry['actor'] {
  return { kind: 'agent', id: record.agentId };
}

async function finalTransition(
  deps: ActionDeps,
  record: ActionRecord,
  patch: { status: ActionStatus; updatedAt: string } & Partial<ActionRecord>,
): Promise<ActionRecord> {
  const moved = await deps.actions.transition(record.tenantId, record.id, ['executing'], patch);
  if ('record' in moved) return moved.record;
  // Nothing else moves an executing action, so this is a bug or a manual edit: say so.
  deps.log?.error('An executing action was moved by someone else', {
    actionId: record.id,
    found: moved.refusedFrom,
  });
  return { ...record, ...patch };
}

/**
 * Closes an action that was decided but may not run now (its requester lost the right to it, or a
 * stop came in): `denied` or `cancelled` with the reason, its tokens released, audited.
 */
export async function refuseDecided(
  deps: ActionDeps,
  record: ActionRecord,
  status: 'denied' | 'cancelled',
  error: { code: string; message: string },
): Promise<ActionRecord | undefined> {
  const at = deps.now().toISOString();
  const moved = await deps.actions.transition(record.tenantId, record.id, [record.status], {
    status,
    updatedAt: at,
    error,
  });
  if (!('record' in moved)) return undefined;
  await releaseHold(deps, moved.record);
  await appendAudit(deps, [
    auditEntry(
      moved.record,
      status === 'denied' ? 'action.denied' : 'action.cancelled',
      at,
      { kind: 'system', id: SYSTEM_ACTOR },
      status,
      { error },
    ),
  ]);
  return moved.record;
}

/**
 * The approval workflow's execute step: runs the action a coordinator approved — if its requester
 * may still have it run (their current record), and no emergency stop is in force and the agent
 * is active when it moves to executing (checked in that same transaction).
 */
export async function executeApprovedAction(
  deps: ActionDeps,
  tenantId: string,
  actionId: string,
): Promise<ActionStepOutcome> {
  const record = await deps.actions.get(tenantId, actionId);
  if (record?.status !== 'awaiting_approval') {
    // A retried step whose first attempt already ran it, or an action closed meanwhile.
    const found = record?.status;
    return { outcome: found === 'executed' || found === 'failed' ? found : 'skipped' };
  }
  const [refusal, agent] = await Promise.all([
    requesterRefusal(deps, record),
    deps.agents.get(tenantId, record.agentId),
  ]);
  if (refusal) {
    const refused = await refuseDecided(deps, record, 'denied', refusal);
    return refused ? { outcome: 'refused', error: refusal } : { outcome: 'skipped' };
  }
  const started = agent
    ? await deps.actions.startExecution(record, ['awaiting_approval'], deps.now().toISOString())
    : ({ stopped: 'agent', agentStatus: 'deleted' } as const);
  if ('refusedFrom' in started) {
    const found = started.refusedFrom;
    return { outcome: found === 'executed' || found === 'failed' ? found : 'skipped' };
  }
  if ('stopped' in started || !agent) {
    // Approved, but the agent was stopped (or the tenant halted) while it waited: it must not act.
    const error = stopErrorOf('stopped' in started ? started : { stopped: 'agent' }, record.agentId);
    const cancelled = await refuseDecided(deps, record, 'cancelled', error);
    return cancelled ? { outcome: 'cancelled', error } : { outcome: 'skipped' };
  }
  const done = await carryOut(deps, started.record, agent);
  return done.status === 'executed'
    ? { outcome: 'executed' }
    : { outcome: 'failed', ...(done.error ? { error: done.error } : {}) };
}

const CLOSE_AUDIT: Record<'rejected' | 'expired' | 'cancelled' | 'failed', AuditType> = {
  rejected: 'action.declined',
  expired: 'action.expired',
  cancelled: 'action.cancelled',
  failed: 'action.failed',
};

/**
 * Closes an action that will not run (rejected, expired, cancelled, or failed in the workflow)
 * and gives its tokens back. Idempotent: closing a closed action changes nothing.
 */
export async function closeAction(
  deps: ActionDeps,
  tenantId: string,
  actionId: string,
  outcome: 'rejected' | 'expired' | 'cancelled' | 'failed',
  actor: string,
): Promise<ActionStepOutcome> {
  const at = deps.now().toISOString();
  const moved = await deps.actions.transition(
    tenantId,
    actionId,
    // A workflow failure may leave the action executing (its step died mid-way).
    outcome === 'failed'
      ? ['awaiting_approval', 'awaiting_confirmation', 'executing']
      : ['awaiting_approval', 'awaiting_confirmation'],
    {
      status: outcome,
      updatedAt: at,
      ...(outcome === 'failed'
        ? {
            error: { code: 'WORKFLOW_FAILED', message: 'The approval workflow failed before the action ran' },
          }
        : {}),
    },
  );
  if (!('record' in moved)) return { outcome: 'skipped' };
  await releaseHold(deps, moved.record);
  await appendAudit(deps, [
    auditEntry(
      moved.record,
      CLOSE_AUDIT[outcome],
      at,
      { kind: actor.startsWith('system:') ? 'system' : 'user', id: actor },
      outcome,
    ),
  ]);
  return { outcome };
}
