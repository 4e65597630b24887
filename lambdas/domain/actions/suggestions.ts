import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import { userMay } from '../tenants/rbac';
import type { User } from '../tenants/schemas';
import { type ActionOutcome, outcomeOf, SUGGESTION_HOLD_SECONDS } from './decision-engine';
import type { ActionDeps } from './deps';
import {
  appendAudit,
  auditEntry,
  carryOut,
  closeAction,
  definitionOf,
  refuseDecided,
  stopErrorOf,
} from './execute';
import type { ActionListFilter, ActionRecord } from './model';
import { requesterRefusal } from './requester';

/**
 * Suggestions: actions the engine proposed to the user instead of running. The user who ran the
 * agent (or an owner/admin) confirms — the action then runs with that user's permissions as they
 * are now — or declines, which gives the tokens back. Either happens once.
 */

/** Confirmation comes this long before the hold ends, so the tokens are still held when it runs. */
const CONFIRM_MARGIN_SECONDS = 60;

async function suggestion(deps: ActionDeps, principal: Principal, actionId: string): Promise<ActionRecord> {
  const record = await deps.actions.get(principal.tenantId, actionId);
  if (!record) throw new NotFoundError('Suggestion', actionId);
  const mayDecide =
    record.actorUserId === principal.userId || principal.role === 'owner' || principal.role === 'admin';
  if (!mayDecide)
    throw new ForbiddenError('Only the user the agent acted for (or an admin) may decide a suggestion');
  if (record.status !== 'awaiting_confirmation') {
    throw new ConflictError(`Action ${actionId} is ${record.status}, not awaiting confirmation`, {
      status: record.status,
    });
  }
  return record;
}

async function actingUser(deps: ActionDeps, principal: Principal): Promise<User> {
  const user = await deps.users.get(principal.tenantId, principal.userId);
  if (!user) throw new ForbiddenError('Your user no longer exists in this tenant');
  return user;
}

export async function confirmSuggestion(
  deps: ActionDeps,
  principal: Principal,
  actionId: string,
): Promise<ActionOutcome> {
  const record = await suggestion(deps, principal, actionId);
  const now = deps.now();
  if (
    now.getTime() >
    Date.parse(record.createdAt) + (SUGGESTION_HOLD_SECONDS - CONFIRM_MARGIN_SECONDS) * 1000
  ) {
    await closeAction(deps, principal.tenantId, actionId, 'expired', principal.userId);
    throw new ConflictError(`Suggestion ${actionId} expired; ask the agent again`, { status: 'expired' });
  }
  const definition = definitionOf(record);
  const [user, agent, stop] = await Promise.all([
    actingUser(deps, principal),
    deps.agents.get(principal.tenantId, record.agentId),
    deps.stops.getTenantStop(principal.tenantId),
  ]);
  // The user it was suggested to must still be allowed to have it run, whoever confirms it.
  const refusal = await requesterRefusal(
    deps,
    record,
    record.actorUserId === principal.userId ? user : undefined,
  );
  if (refusal) {
    const refused = await refuseDecided(deps, record, 'denied', refusal);
    throw new ConflictError(`${refusal.message}; the suggestion is closed`, {
      status: refused?.status ?? 'denied',
      error: refusal,
    });
  }
  if (!userMay(user, definition.permission, record.locationId)) {
    throw new ForbiddenError(
      `You lack ${definition.permission}; the suggestion stays open for someone who has it`,
    );
  }
  if (stop || agent?.status !== 'active') {
    throw new ConflictError(
      stop
        ? 'The tenant is under an emergency stop'
        : `Agent ${record.agentId} is ${agent?.status ?? 'deleted'}`,
      { status: record.status },
    );
  }
  const at = now.toISOString();
  // Into executing only while no stop is in force and the agent is active (one transaction).
  const started = await deps.actions.startExecution(record, ['awaiting_confirmation'], at);
  if ('refusedFrom' in started) {
    throw new ConflictError(`Action ${actionId} is ${started.refusedFrom}, not awaiting confirmation`, {
      status: started.refusedFrom,
    });
  }
  if ('stopped' in started) {
    throw new ConflictError(stopErrorOf(started, record.agentId).message, { status: record.status });
  }
  await appendAudit(deps, [
    auditEntry(started.record, 'action.confirmed', at, { kind: 'user', id: principal.userId }, 'confirmed'),
  ]);
  return outcomeOf(await carryOut(deps, started.record, agent));
}

export async function declineSuggestion(
  deps: ActionDeps,
  principal: Principal,
  actionId: string,
): Promise<ActionOutcome> {
  await suggestion(deps, principal, actionId);
  const closed = await closeAction(deps, principal.tenantId, actionId, 'rejected', principal.userId);
  const record = await deps.actions.get(principal.tenantId, actionId);
  if (closed.outcome === 'skipped' || !record) {
    throw new ConflictError(`Action ${actionId} was decided meanwhile`, { status: record?.status });
  }
  return outcomeOf(record);
}

export async function getAction(
  deps: ActionDeps,
  principal: Principal,
  actionId: string,
): Promise<ActionRecord> {
  const record = await deps.actions.get(principal.tenantId, actionId);
  if (!record) throw new NotFoundError('Action', actionId);
  return record;
}

export function listActions(deps: ActionDeps, principal: Principal, filter: ActionListFilter) {
  return deps.actions.list(principal.tenantId, filter);
}
