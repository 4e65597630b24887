import type { AgentRepository } from '../agents/ports';
import { type DomainEvent, domainEvent, type EventPublisher } from '../events/events';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Page } from '../shared/pagination';
import type { TenantRepository } from '../tenants/ports';
import {
  addDays,
  dayOf,
  daysInRange,
  epochSeconds,
  hourOf,
  hoursBefore,
  isDay,
  nextHour,
  PERIOD_PATTERN,
  periodOf,
} from './calendar';
import { InsufficientBalanceError, TenantSuspendedError } from './errors';
import type {
  Balance,
  BillingOperation,
  BillingRepository,
  CostTable,
  LedgerChange,
  LedgerEntry,
  LedgerOutcome,
  LedgerRequest,
  LedgerSnapshot,
  MonthlyFeeOutcome,
  Reservation,
  SuspendResult,
  TenantStatus,
  UsageDay,
  UsageIncrement,
} from './ports';

/**
 * Tokens and billing (DESIGN §3.7). Every change to a tenant's balance is planned here, from the
 * balance as it is, and written by the repository in one transaction with its ledger entry and
 * its idempotency claim; when another writer got there first the repository plans again from
 * the new balance (compare-and-set on the balance's change counter). So the ledger is exact:
 * entries are numbered, each says the balance it left, and they sum to the balance.
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
/** The widest usage report: its totals read one small item per day of the range. */
export const USAGE_MAX_DAYS = 366;
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

function tokens(field: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min || value > MAX_TOKENS) {
    throw ValidationError.forField(field, `must be a whole number of tokens from ${min} to ${MAX_TOKENS}`);
  }
  return value;
}

function label(field: string, value: string): string {
  if (value.length < 1 || value.length > 100)
    throw ValidationError.forField(field, 'must be 1-100 characters');
  return value;
}

function idempotencyKey(value: string): string {
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(value)) {
    throw ValidationError.forField('idempotencyKey', 'must be 1-200 letters, digits or _ . : -');
  }
  return value;
}

function period(value: string): string {
  if (!PERIOD_PATTERN.test(value)) throw ValidationError.forField('period', 'must be a month, YYYY-MM');
  return value;
}

const contextOf = (context: ChargeContext) => ({
  action: label('action', context.action),
  ...(context.agentId === undefined ? {} : { agentId: context.agentId }),
  ...(context.executionId === undefined ? {} : { executionId: context.executionId }),
});

function claim(operation: BillingOperation, key: string, parameters: Record<string, unknown>) {
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
      'charged' | 'action' | 'agentId' | 'executionId' | 'reservationId' | 'usd' | 'period' | 'reference'
    >
  >;

/**
 * The change that moves `available` and `reserved` by the deltas, with its ledger entry. Never
 * below zero: the plans refuse before that, so reaching it here is a bug, not a 402.
 */
function change(
  s: LedgerSnapshot,
  stamp: Stamp,
  delta: { readonly available: number; readonly reserved: number },
  fields: EntryFields,
  extra: Pick<LedgerChange, 'reservation' | 'usage' | 'requireActiveTenant'> = {},
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
    availableAfter: available,
    reservedAfter: reserved,
    idempotencyKey: stamp.key,
    actor: stamp.actor,
    createdAt: stamp.at.toISOString(),
    seq: s.seq + 1,
  };
  return { available, reserved, entry, ...extra };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Costed operations need an existing, active tenant with the tokens. */
function requireSpendable(s: LedgerSnapshot, tenantId: string, required: number): void {
  if (s.tenantStatus === undefined) throw new NotFoundError('Tenant', tenantId);
  if (s.tenantStatus === 'suspended') throw new TenantSuspendedError(s.balance.available, required);
  if (s.balance.available < required) throw new InsufficientBalanceError(s.balance.available, required);
}

function usage(
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

function openReservation(s: LedgerSnapshot, reservationId: string): Reservation {
  const reservation = s.reservation;
  if (!reservation) throw new NotFoundError('Reservation', reservationId);
  if (reservation.status !== 'held') {
    throw new ConflictError(`Reservation ${reservationId} is already ${reservation.status}`, {
      status: reservation.status,
    });
  }
  return reservation;
}

const chargeOf = (reservation: Reservation): ChargeContext => ({
  action: reservation.action,
  ...(reservation.agentId === undefined ? {} : { agentId: reservation.agentId }),
  ...(reservation.executionId === undefined ? {} : { executionId: reservation.executionId }),
});

// ---------------------------------------------------------------------------------------------
// Recording and announcing.

type Applied = Extract<LedgerOutcome, { kind: 'applied' }>;

async function apply(
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
    availableAfter: entry.availableAfter,
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
        { tenantId: entry.tenantId, available: entry.availableAfter, threshold },
        at,
      ),
    );
  }
  return events;
}

/** Best effort, after the fact: true when the bus took the events. */
async function publish(deps: BillingDeps, events: readonly DomainEvent[]): Promise<boolean> {
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

// ---------------------------------------------------------------------------------------------
// Costed operations: reserve → settle | release, or a one-shot debit.

/**
 * Holds `amount` tokens for an operation about to run: 402 INSUFFICIENT_BALANCE when they are
 * not there, 402 TENANT_SUSPENDED while the tenant is suspended (checked inside the transaction,
 * so a suspension that commits first wins). The same key again returns the same reservation.
 */
export async function reserve(
  deps: BillingDeps,
  tenantId: string,
  amount: number,
  options: ReserveOptions,
  key: string,
  actor: string,
): Promise<Reservation> {
  tokens('amount', amount);
  const context = contextOf(options);
  const holdSeconds = options.holdSeconds ?? DEFAULT_HOLD_SECONDS;
  if (!Number.isInteger(holdSeconds) || holdSeconds < 60 || holdSeconds > MAX_HOLD_SECONDS) {
    throw ValidationError.forField('holdSeconds', `must be whole seconds from 60 to ${MAX_HOLD_SECONDS}`);
  }
  const reservationId = newId('reservation');
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    { tenantId, readTenant: true, claim: claim('reserve', key, { amount, ...context, holdSeconds }) },
    (s) => {
      requireSpendable(s, tenantId, amount);
      const at = deps.now();
      const reservation: Reservation = {
        id: reservationId,
        tenantId,
        amount,
        ...context,
        status: 'held',
        createdAt: at.toISOString(),
        holdUntil: epochSeconds(at) + holdSeconds,
      };
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: -amount, reserved: amount },
        { type: 'reservation', ...context, reservationId },
        { reservation: { open: reservation }, requireActiveTenant: true },
      );
    },
  );
  const reservation = outcome.change.reservation;
  if (!reservation) throw new Error(`Reservation missing from the record of ${entryId}`);
  return reservation;
}

/**
 * Closes a held reservation with what the operation really cost (at most what was held): the
 * unused part goes back to the available balance, and the cost is usage of its agent and action.
 * 409 if the reservation was already settled or released (e.g. by housekeeping after its hold).
 */
export async function settle(
  deps: BillingDeps,
  tenantId: string,
  reservationId: string,
  actualAmount: number,
  key: string,
  actor: string,
  options: { readonly usd?: number } = {},
): Promise<LedgerEntry> {
  tokens('actualAmount', actualAmount, 0);
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    {
      tenantId,
      reservationId,
      claim: claim('settle', key, { reservationId, actualAmount, usd: options.usd }),
    },
    (s) => {
      const reservation = openReservation(s, reservationId);
      if (actualAmount > reservation.amount) {
        throw ValidationError.forField('actualAmount', `must not exceed the ${reservation.amount} reserved`);
      }
      const at = deps.now();
      const context = chargeOf(reservation);
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: reservation.amount - actualAmount, reserved: -reservation.amount },
        { type: 'settlement', charged: actualAmount, ...context, reservationId, usd: options.usd },
        {
          reservation: {
            close: { ...reservation, status: 'settled', closedAt: at.toISOString(), charged: actualAmount },
          },
          ...(actualAmount > 0 ? { usage: usage(at, actualAmount, 0, context) } : {}),
        },
      );
    },
  );
  return outcome.change.entry;
}

/** Gives a held reservation back in full (the operation failed or did not happen). */
export async function release(
  deps: BillingDeps,
  tenantId: string,
  reservationId: string,
  key: string,
  actor: string,
): Promise<LedgerEntry> {
  return (await releaseReservation(deps, tenantId, reservationId, key, actor)).entry;
}

async function releaseReservation(
  deps: BillingDeps,
  tenantId: string,
  reservationId: string,
  key: string,
  actor: string,
): Promise<{ entry: LedgerEntry; replayed: boolean }> {
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    { tenantId, reservationId, claim: claim('release', key, { reservationId }) },
    (s) => {
      const reservation = openReservation(s, reservationId);
      const at = deps.now();
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: reservation.amount, reserved: -reservation.amount },
        { type: 'release', ...chargeOf(reservation), reservationId },
        { reservation: { close: { ...reservation, status: 'released', closedAt: at.toISOString() } } },
      );
    },
  );
  return { entry: outcome.change.entry, replayed: outcome.kind === 'replayed' };
}

/**
 * Charges a known cost at once (reserve and settle in one step), e.g. a model call after it
 * returned, with its USD cost beside it. Recorded as a settlement without a reservation.
 */
export async function debit(
  deps: BillingDeps,
  tenantId: string,
  amount: number,
  context: ChargeContext & { readonly usd?: number },
  key: string,
  actor: string,
): Promise<LedgerEntry> {
  tokens('amount', amount);
  const charge = contextOf(context);
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    { tenantId, readTenant: true, claim: claim('debit', key, { amount, ...charge, usd: context.usd }) },
    (s) => {
      requireSpendable(s, tenantId, amount);
      const at = deps.now();
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: -amount, reserved: 0 },
        { type: 'settlement', charged: amount, ...charge, usd: context.usd },
        { usage: usage(at, amount, 0, charge), requireActiveTenant: true },
      );
    },
  );
  return outcome.change.entry;
}

// ---------------------------------------------------------------------------------------------
// Credits and the monthly fee.

export interface CreditResult {
  readonly entry: LedgerEntry;
  /** The balance now (after a reactivation's fee, if there was one). */
  readonly balance: Balance;
  readonly tenantStatus: TenantStatus;
  /** True when this request's key had been used before: nothing new was credited. */
  readonly replayed: boolean;
  /** True when this credit lifted a suspension. */
  readonly reactivated: boolean;
}

/**
 * Adds tokens (a purchase, a grant, a refund, an adjustment). A suspended tenant whose balance
 * now covers the monthly fee is reactivated: see `reactivateIfPaid`. A repeat of the key credits
 * nothing, returns the first entry, and still finishes a reactivation a crash interrupted.
 */
export async function credit(
  deps: BillingDeps,
  tenantId: string,
  amount: number,
  details: { readonly type: CreditType; readonly reference?: string },
  key: string,
  actor: string,
): Promise<CreditResult> {
  tokens('amount', amount);
  if (!(CREDIT_TYPES as readonly string[]).includes(details.type)) {
    throw ValidationError.forField('type', `must be one of ${CREDIT_TYPES.join(', ')}`);
  }
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    {
      tenantId,
      readTenant: true,
      claim: claim('credit', key, { amount, type: details.type, reference: details.reference }),
    },
    (s) => {
      if (s.tenantStatus === undefined) throw new NotFoundError('Tenant', tenantId);
      const at = deps.now();
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: amount, reserved: 0 },
        { type: details.type, reference: details.reference },
        { usage: usage(at, 0, amount) },
      );
    },
  );
  const reactivated = await reactivateIfPaid(deps, tenantId, actor);
  const { tenantStatus, ...balance } = await getBalance(deps, tenantId);
  return {
    entry: outcome.change.entry,
    balance,
    tenantStatus,
    replayed: outcome.kind === 'replayed',
    reactivated,
  };
}

/**
 * Charges the tenant's monthly fee for `period` (`YYYY-MM`) once: the period is the idempotency
 * key, so a second run of the same period returns the first charge as `already_charged`. A short
 * balance charges nothing and says how short (`insufficient`); the caller decides what follows.
 * The tenant's status does not matter: a reactivation charges a suspended tenant.
 */
export async function chargeMonthlyFee(
  deps: BillingDeps,
  tenantId: string,
  billingPeriod: string,
  actor: string,
): Promise<MonthlyFeeOutcome> {
  const feePeriod = period(billingPeriod);
  const fee = deps.costs.monthlyFee;
  const key = `monthly_fee:${feePeriod}`;
  const entryId = newId('ledgerEntry');
  try {
    const outcome = await apply(
      deps,
      {
        tenantId,
        readTenant: true,
        // Kept for good: a period is charged once, however late a re-run comes.
        claim: { operation: 'monthly_fee', key, fingerprint: JSON.stringify({ period: feePeriod }) },
      },
      (s) => {
        if (s.tenantStatus === undefined) throw new NotFoundError('Tenant', tenantId);
        if (s.balance.available < fee) throw new InsufficientBalanceError(s.balance.available, fee);
        const at = deps.now();
        return change(
          s,
          { tenantId, entryId, key, actor, at },
          { available: -fee, reserved: 0 },
          { type: 'monthly_fee', charged: fee, action: 'monthlyFee', period: feePeriod },
          { usage: usage(at, fee, 0, { action: 'monthlyFee' }) },
        );
      },
    );
    return {
      outcome: outcome.kind === 'applied' ? 'charged' : 'already_charged',
      entry: outcome.change.entry,
    };
  } catch (error) {
    if (error instanceof InsufficientBalanceError) {
      return { outcome: 'insufficient', available: error.available, required: error.required };
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Suspension and reactivation.

/**
 * Suspends a tenant: status `suspended` (costed operations then get 402 TENANT_SUSPENDED), its
 * active agents paused (remembered, so a reactivation resumes exactly those), `tenant.suspended`
 * published once. Idempotent: a repeat finishes what a crash left undone and changes nothing else.
 *
 * With `period` (the billing run's case) the suspension is for that period's unpaid fee, and it
 * happens only while the balance cannot pay it: if a top-up landed between the run's charge and
 * this call, the fee is charged now instead and the tenant stays active. The status change
 * carries a condition on the balance, so the top-up and the suspension cannot both miss it.
 */
export async function suspendTenant(
  deps: BillingDeps,
  tenantId: string,
  reason: string,
  billingPeriod?: string,
): Promise<void> {
  label('reason', reason);
  const feePeriod = billingPeriod === undefined ? undefined : period(billingPeriod);
  let result: SuspendResult = 'can_pay';
  for (let attempt = 0; attempt < 3 && result === 'can_pay'; attempt++) {
    if (feePeriod !== undefined) {
      const fee = await chargeMonthlyFee(deps, tenantId, feePeriod, BILLING_ACTOR);
      if (fee.outcome !== 'insufficient') return;
    }
    result = await deps.billing.suspend(
      {
        tenantId,
        reason,
        ...(feePeriod === undefined ? {} : { period: feePeriod }),
        suspendedAt: deps.now().toISOString(),
        pausedAgentIds: [],
      },
      feePeriod === undefined ? {} : { unlessAvailableAtLeast: deps.costs.monthlyFee },
    );
  }
  if (result === 'can_pay') {
    // The balance moved across the fee three times in a row: let the caller (the run) retry.
    throw new ConflictError(`Tenant ${tenantId}'s balance keeps changing; suspension not decided`);
  }
  await pauseActiveAgents(deps, tenantId);
  const suspension = await deps.billing.getSuspension(tenantId);
  if (suspension && suspension.notifiedAt === undefined) {
    const sent = await publish(deps, [
      domainEvent(
        'tenant.suspended',
        {
          tenantId,
          reason: suspension.reason,
          ...(suspension.period === undefined ? {} : { period: suspension.period }),
        },
        deps.now(),
      ),
    ]);
    if (sent) await deps.billing.markSuspensionNotified(tenantId, deps.now().toISOString());
  }
}

const AGENT_PAGE = 100;

async function pauseActiveAgents(deps: BillingDeps, tenantId: string): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await deps.agents.list(tenantId, {
      limit: AGENT_PAGE,
      sort: 'createdAt',
      order: 'asc',
      status: 'active',
      ...(cursor === undefined ? {} : { cursor }),
    });
    const ids = page.items.map((agent) => agent.id);
    if (ids.length > 0) {
      // Remembered first: an agent paused but not remembered would never be resumed.
      if (!(await deps.billing.notePausedAgents(tenantId, ids))) return;
      await Promise.all(ids.map((id) => moveAgent(deps, tenantId, id, 'active', 'paused')));
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** A refused move (someone stopped or deleted the agent meanwhile) is theirs to keep. */
async function moveAgent(
  deps: BillingDeps,
  tenantId: string,
  agentId: string,
  from: 'active' | 'paused',
  to: 'active' | 'paused',
): Promise<void> {
  try {
    await deps.agents.transition(tenantId, agentId, [from], to, BILLING_ACTOR);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/**
 * Lifts a suspension once the balance covers the monthly fee: charges the current period's fee
 * (once per period: nothing if the run already charged it), resumes the agents the suspension
 * paused (not those their users paused), sets the tenant active and publishes
 * `tenant.reactivated`. Months spent suspended are not billed. Safe to repeat at any point.
 */
export async function reactivateIfPaid(deps: BillingDeps, tenantId: string, actor: string): Promise<boolean> {
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status !== 'suspended') return false;
  const fee = await chargeMonthlyFee(deps, tenantId, periodOf(deps.now()), actor);
  if (fee.outcome === 'insufficient') return false;
  const suspension = await deps.billing.getSuspension(tenantId);
  await Promise.all(
    (suspension?.pausedAgentIds ?? []).map((id) => moveAgent(deps, tenantId, id, 'paused', 'active')),
  );
  if (!(await deps.billing.reactivate(tenantId, deps.now().toISOString()))) return false;
  const balance = await deps.billing.getBalance(tenantId);
  await publish(deps, [
    domainEvent('tenant.reactivated', { tenantId, available: balance?.available ?? 0 }, deps.now()),
  ]);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Housekeeping.

export interface HousekeepingResult {
  readonly released: number;
  /** Settled or released by someone else between the index read and the release. */
  readonly alreadyClosed: number;
  readonly failed: number;
  /** Hour buckets of the held-reservation index looked at. */
  readonly hours: number;
  /** False when the run stopped at `maxReleases` or on a failure: the next run goes on from there. */
  readonly complete: boolean;
}

/**
 * Releases reservations still held after their hold, from the platform-level index of held
 * reservations (bucketed by the hour their hold ends; no Scan). Each run looks at the buckets
 * from the sweep mark (the first hour that may still hold some) to now, then moves the mark to
 * the current hour, so a run missed or failed is caught up by the next. Without a mark it looks
 * `lookbackHours` back.
 */
export async function releaseExpiredReservations(
  deps: BillingDeps,
  now: Date,
  options: {
    readonly maxReleases?: number;
    readonly lookbackHours?: number;
    readonly concurrency?: number;
  } = {},
): Promise<HousekeepingResult> {
  const maxReleases = options.maxReleases ?? 1000;
  const concurrency = options.concurrency ?? 8;
  const nowEpoch = epochSeconds(now);
  const currentHour = hourOf(now);
  const mark = (await deps.billing.getSweepMark()) ?? hoursBefore(now, options.lookbackHours ?? 24);
  let released = 0;
  let alreadyClosed = 0;
  let failed = 0;
  let hours = 0;
  let complete = true;
  sweep: for (let hour = mark; hour <= currentHour; hour = nextHour(hour)) {
    hours++;
    let cursor: string | undefined;
    do {
      const page = await deps.billing.listExpiredHolds(hour, nowEpoch, {
        limit: 100,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (let i = 0; i < page.items.length; i += concurrency) {
        await Promise.all(
          page.items.slice(i, i + concurrency).map(async (hold) => {
            try {
              const { replayed } = await releaseReservation(
                deps,
                hold.tenantId,
                hold.reservationId,
                `expired:${hold.reservationId}`,
                HOUSEKEEPING_ACTOR,
              );
              if (replayed) alreadyClosed++;
              else released++;
            } catch (error) {
              if (error instanceof ConflictError || error instanceof NotFoundError) {
                alreadyClosed++;
              } else {
                failed++;
                deps.log?.error('Expired reservation not released', {
                  tenantId: hold.tenantId,
                  reservationId: hold.reservationId,
                  error: error instanceof Error ? error.message : String(error),
                });
              }
            }
          }),
        );
      }
      if (released + alreadyClosed + failed >= maxReleases) {
        complete = false;
        break sweep;
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  if (failed > 0) complete = false;
  if (complete && currentHour > mark) await deps.billing.setSweepMark(currentHour);
  return { released, alreadyClosed, failed, hours, complete };
}

// ---------------------------------------------------------------------------------------------
// Reading.

export function emptyBalance(tenantId: string, at: string): Balance {
  return {
    tenantId,
    available: 0,
    reserved: 0,
    lowBalanceThreshold: DEFAULT_LOW_BALANCE_THRESHOLD,
    updatedAt: at,
  };
}

/** The balance and the tenant's status (a suspended tenant's tokens cannot be spent). */
/** The tenant's `balance.low` threshold, in tokens (0 turns the event off). */
export async function setLowBalanceThreshold(
  deps: Pick<BillingDeps, 'billing' | 'tenants' | 'now'>,
  tenantId: string,
  threshold: number,
) {
  tokens('body.lowBalanceThreshold', threshold, 0);
  await deps.billing.setLowBalanceThreshold(tenantId, threshold, deps.now().toISOString());
  return getBalance(deps, tenantId);
}

export async function getBalance(
  deps: Pick<BillingDeps, 'billing' | 'tenants'>,
  tenantId: string,
): Promise<Balance & { readonly tenantStatus: TenantStatus }> {
  const [balance, tenant] = await Promise.all([
    deps.billing.getBalance(tenantId),
    deps.tenants.get(tenantId),
  ]);
  if (!tenant) throw new NotFoundError('Tenant', tenantId);
  return { ...(balance ?? emptyBalance(tenantId, tenant.createdAt)), tenantStatus: tenant.status };
}

export interface UsageQuery {
  readonly from?: string;
  readonly to?: string;
  readonly limit: number;
  readonly cursor?: string;
}

export interface UsageTotals {
  /** Tokens spent: settlements' costs and monthly fees. */
  readonly charged: number;
  /** Tokens added: purchases, grants, refunds, adjustments. */
  readonly credited: number;
  /** Charged per agent, for charges made for one (monthly fees are not). */
  readonly byAgent: Record<string, number>;
  readonly byAction: Record<string, number>;
  /** Days with any activity, oldest first. */
  readonly byDay: { day: string; charged: number; credited: number }[];
}

export interface UsageReport extends Page<LedgerEntry> {
  readonly from: string;
  readonly to: string;
  readonly totals: UsageTotals;
}

export function totalUsage(days: readonly UsageDay[]): UsageTotals {
  const totals: UsageTotals = { charged: 0, credited: 0, byAgent: {}, byAction: {}, byDay: [] };
  const add = (into: Record<string, number>, from: Readonly<Record<string, number>>) => {
    for (const [name, value] of Object.entries(from)) into[name] = (into[name] ?? 0) + value;
  };
  let charged = 0;
  let credited = 0;
  for (const day of days) {
    charged += day.charged;
    credited += day.credited;
    add(totals.byAgent, day.byAgent);
    add(totals.byAction, day.byAction);
    totals.byDay.push({ day: day.day, charged: day.charged, credited: day.credited });
  }
  return { ...totals, charged, credited };
}

/**
 * Ledger entries of a date range (UTC days, both included; the last 30 days by default), newest
 * first with a cursor, and totals over the whole range — by agent, action and day — read from
 * the per-day usage the ledger keeps beside itself, one item per day. A range is at most
 * `USAGE_MAX_DAYS` days, which bounds that read.
 */
export async function getUsage(
  deps: Pick<BillingDeps, 'billing' | 'now'>,
  tenantId: string,
  query: UsageQuery,
): Promise<UsageReport> {
  const to = query.to ?? dayOf(deps.now());
  const from = query.from ?? addDays(to, -29);
  for (const [field, value] of [
    ['query.from', from],
    ['query.to', to],
  ] as const) {
    if (!isDay(value)) throw ValidationError.forField(field, 'must be a date, YYYY-MM-DD');
  }
  if (from > to) throw ValidationError.forField('query.from', 'must not be after query.to');
  if (daysInRange(from, to) > USAGE_MAX_DAYS) {
    throw ValidationError.forField('query.from', `the range may span at most ${USAGE_MAX_DAYS} days`);
  }
  const [page, days] = await Promise.all([
    deps.billing.listLedger(
      tenantId,
      { from, to },
      { limit: query.limit, ...(query.cursor === undefined ? {} : { cursor: query.cursor }) },
    ),
    deps.billing.usageDays(tenantId, from, to),
  ]);
  return { from, to, totals: totalUsage(days), ...page };
}
