import type { AgentRepository } from '../agents/ports';
import { type DomainEvent, domainEvent, type EventPublisher } from '../events/events';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import type { DataScopes } from '../shared/scopes';
import type { TenantRepository } from '../tenants/ports';
import { dayOf, PERIOD_PATTERN } from './calendar';
import { InsufficientBalanceError, TenantSuspendedError } from './errors';
import type {
  BillingOperation,
  BillingRepository,
  CostTable,
  LedgerChange,
  LedgerEntry,
  LedgerOutcome,
  LedgerRequest,
  LedgerSnapshot,
  Reservation,
  UsageIncrement,
} from './ports';

/**
 * Tokens and billing (DESIGN §3.7). Every change to a tenant's balance is planned here, from the
 * balance as it is, and written by the repository in one transaction with its ledger entry and
 * its idempotency claim. Costed operations (reserve, settle, release, debit) are planned as deltas,
 * which the repository applies on the condition that the balance stays at or above zero, so many
 * at once on one tenant never make each other retry; credits and fees are compare-and-set on the
 * balance's change counter and their entries record the balance they left. Either way the ledger
 * is exact: the entries sum to the balance, and the change counter counts them.
 *
 * Events go out after the transaction commits, best effort: a failure is logged, never undoes
 * the change. EventBridge delivers at least once, so token events carry the ledger entry's id
 * (`entryId`) for consumers to drop duplicates.
 */
export interface BillingLog {
  error(message: string, extra: Record<string, unknown>): void;
}

export interface BillingDeps {
  readonly billing: BillingRepository;
  readonly tenants: Pick<TenantRepository, 'get'>;
  readonly agents: Pick<AgentRepository, 'list' | 'transition'>;
  readonly events: EventPublisher;
  readonly costs: CostTable;
  readonly now: () => Date;
  /** Where events that could not be published are reported (they are not retried). */
  readonly log?: BillingLog;
  /**
   * Where platform-level work (the payment lookup, the held-reservation index) hands over to a
   * tenant's credentials and back; unset: the clients are not routed by scope (tests' own clients).
   */
  readonly scopes?: DataScopes;
}

/**
 * `balance.low` fires when `available` drops below the tenant's threshold, kept on its balance
 * item; every tenant starts with this one (no route changes it yet).
 */
export const DEFAULT_LOW_BALANCE_THRESHOLD = 20;
/** How long a reservation holds tokens unless the caller says otherwise; housekeeping frees it after. */
export const DEFAULT_HOLD_SECONDS = 15 * 60;
export const MAX_HOLD_SECONDS = 24 * 3600;
/** Idempotency keys are remembered this long (monthly fees: for good). */
export const CLAIM_TTL_SECONDS = 30 * 86_400;
const MAX_TOKENS = 1_000_000_000;
export const BILLING_ACTOR = 'system:billing';
export const HOUSEKEEPING_ACTOR = 'system:housekeeping';

export const CREDIT_TYPES = ['purchase', 'grant', 'refund', 'adjustment'] as const;
export type CreditType = (typeof CREDIT_TYPES)[number];

/** What a costed operation is for: shown in the ledger and in usage by action and agent. */
export interface ChargeContext {
  readonly action: string;
  readonly agentId?: string;
  readonly executionId?: string;
}

export interface ReserveOptions extends ChargeContext {
  /** Seconds before housekeeping releases the reservation if nobody settles it (60 s to a day). */
  readonly holdSeconds?: number;
}

// ---------------------------------------------------------------------------------------------
// Validation of what callers pass in (the HTTP schemas check the API's share again, earlier).

export function tokens(field: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min || value > MAX_TOKENS) {
    throw ValidationError.forField(field, `must be a whole number of tokens from ${min} to ${MAX_TOKENS}`);
  }
  return value;
}

export function label(field: string, value: string, max = 100): string {
  if (value.length < 1 || value.length > max)
    throw ValidationError.forField(field, `must be 1-${max} characters`);
  return value;
}

export function idempotencyKey(value: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(value)) {
    throw ValidationError.forField('idempotencyKey', 'must be 1-200 letters, digits or _ . : -');
  }
  return value;
}

export function period(value: string): string {
  if (!PERIOD_PATTERN.test(value)) throw ValidationError.forField('period', 'must be a month, YYYY-MM');
  return value;
}

export const contextOf = (context: ChargeContext) => ({
  action: label('action', context.action),
  ...(context.agentId === undefined ? {} : { agentId: context.agentId }),
  ...(context.executionId === undefined ? {} : { executionId: context.executionId }),
});

export function claim(operation: BillingOperation, key: string, parameters: Record<string, unknown>) {
  return {
    operation,
    key: idempotencyKey(key),
    fingerprint: JSON.stringify(parameters),
    ttlSeconds: CLAIM_TTL_SECONDS,
  };
}

// ---------------------------------------------------------------------------------------------
// Planning: from a snapshot of the balance to the change that is written.

interface Stamp {
  readonly tenantId: string;
  readonly entryId: string;
  readonly key: string;
  readonly actor: string;
  readonly at: Date;
}

type EntryFields = Pick<LedgerEntry, 'type'> &
  Partial<
    Pick<
      LedgerEntry,
      | 'charged'
      | 'action'
      | 'agentId'
      | 'executionId'
      | 'reservationId'
      | 'usd'
      | 'period'
      | 'reference'
      | 'reason'
    >
  >;

/**
 * The change that moves `available` and `reserved` by the deltas, with its ledger entry. Never
 * below zero: the plans refuse before that, so reaching it here is a bug, not a 402.
 *
 * `exact` changes are written by compare-and-set on the balance's change counter, so their entry
 * records the balance it left and its position in the ledger. `delta` changes (the costed
 * operations, many at once on a busy tenant) are written as conditional deltas: the store refuses
 * one only if the balance would go below zero, whatever else committed since the snapshot, so the
 * entry records only its amount.
 */
export function change(
  s: LedgerSnapshot,
  stamp: Stamp,
  delta: { readonly available: number; readonly reserved: number },
  fields: EntryFields,
  extra: Pick<LedgerChange, 'reservation' | 'usage' | 'requireActiveTenant'> = {},
  mode: 'exact' | 'delta' = 'exact',
): LedgerChange {
  const available = s.balance.available + delta.available;
  const reserved = s.balance.reserved + delta.reserved;
  if (available < 0 || reserved < 0) {
    throw new Error(`Billing plan would take tenant ${stamp.tenantId}'s balance below zero`);
  }
  const entry: LedgerEntry = {
    id: stamp.entryId,
    tenantId: stamp.tenantId,
    ...withoutUndefined(fields),
    amount: delta.available,
    ...(mode === 'exact' ? { availableAfter: available, reservedAfter: reserved } : {}),
    idempotencyKey: stamp.key,
    actor: stamp.actor,
    createdAt: stamp.at.toISOString(),
    ...(mode === 'exact' ? { seq: s.seq + 1 } : {}),
  };
  return {
    available,
    reserved,
    entry,
    ...(mode === 'delta' ? { delta: { available: delta.available, reserved: delta.reserved } } : {}),
    ...extra,
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Costed operations need an existing, active tenant with the tokens. */
export function requireSpendable(s: LedgerSnapshot, tenantId: string, required: number): void {
  if (s.tenantStatus === undefined) throw new NotFoundError('Tenant', tenantId);
  if (s.tenantStatus === 'suspended') throw new TenantSuspendedError(s.balance.available, required);
  if (s.balance.available < required) throw new InsufficientBalanceError(s.balance.available, required);
}

export function usage(
  at: Date,
  charged: number,
  credited: number,
  context: Partial<ChargeContext> = {},
): UsageIncrement {
  return {
    day: dayOf(at),
    charged,
    credited,
    ...(charged > 0 && context.agentId ? { agentId: context.agentId } : {}),
    ...(charged > 0 && context.action ? { action: context.action } : {}),
  };
}

export function openReservation(s: LedgerSnapshot, reservationId: string): Reservation {
  const reservation = s.reservation;
  if (!reservation) throw new NotFoundError('Reservation', reservationId);
  if (reservation.status !== 'held') {
    throw new ConflictError(`Reservation ${reservationId} is already ${reservation.status}`, {
      status: reservation.status,
    });
  }
  return reservation;
}

export const chargeOf = (reservation: Reservation): ChargeContext => ({
  action: reservation.action,
  ...(reservation.agentId === undefined ? {} : { agentId: reservation.agentId }),
  ...(reservation.executionId === undefined ? {} : { executionId: reservation.executionId }),
});

// ---------------------------------------------------------------------------------------------
// Recording and announcing.

type Applied = Extract<LedgerOutcome, { kind: 'applied' }>;

export async function apply(
  deps: BillingDeps,
  request: LedgerRequest,
  plan: (snapshot: LedgerSnapshot) => LedgerChange,
): Promise<LedgerOutcome> {
  const outcome = await deps.billing.record(request, plan);
  if (outcome.kind === 'replayed' && outcome.fingerprint !== request.claim.fingerprint) {
    throw new ConflictError(
      `idempotency-key: ${request.claim.key} was already used for a different ${request.claim.operation}`,
      { operation: request.claim.operation },
    );
  }
  if (outcome.kind === 'applied') await publish(deps, eventsOf(outcome, deps.now()));
  return outcome;
}

/** What a committed change tells the bus. Replays tell it nothing: the first time did. */
export function eventsOf(outcome: Applied, at: Date): DomainEvent[] {
  const { entry } = outcome.change;
  const events: DomainEvent[] = [];
  const about = {
    tenantId: entry.tenantId,
    ...(entry.availableAfter === undefined ? {} : { availableAfter: entry.availableAfter }),
    entryId: entry.id,
    entryType: entry.type,
    ...(entry.agentId === undefined ? {} : { agentId: entry.agentId }),
    ...(entry.action === undefined ? {} : { action: entry.action }),
  };
  if (entry.charged !== undefined && entry.charged > 0) {
    events.push(domainEvent('tokens.debited', { ...about, amount: entry.charged }, at));
  }
  if ((CREDIT_TYPES as readonly string[]).includes(entry.type)) {
    events.push(domainEvent('tokens.credited', { ...about, amount: entry.amount }, at));
  }
  const threshold = outcome.after.lowBalanceThreshold;
  if (outcome.before.available >= threshold && outcome.after.available < threshold) {
    events.push(
      domainEvent(
        'balance.low',
        { tenantId: entry.tenantId, available: outcome.after.available, threshold },
        at,
      ),
    );
  }
  return events;
}

/** Best effort, after the fact: true when the bus took the events. */
export async function publish(deps: BillingDeps, events: readonly DomainEvent[]): Promise<boolean> {
  if (events.length === 0) return true;
  try {
    await deps.events.publish(events);
    return true;
  } catch (error) {
    deps.log?.error('Domain events not published', {
      types: events.map((event) => event.type),
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}
