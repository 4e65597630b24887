import type { Page, PageRequest } from '../shared/pagination';

/**
 * Billing contracts (issue 4). Token amounts are integers. Every change to a tenant's balance is
 * a ledger entry written in the same DynamoDB transaction as the balance update, and
 * `amount` is the entry's effect on the available balance, so the ledger sums to the balance.
 */
export const LEDGER_ENTRY_TYPES = [
  'purchase',
  'grant',
  'reservation',
  'settlement',
  'release',
  'refund',
  'monthly_fee',
  'adjustment',
] as const;
export type LedgerEntryType = (typeof LEDGER_ENTRY_TYPES)[number];

/** What costs tokens; the cost table (per environment) prices each. */
export const COSTED_ACTIONS = [
  'whatsappConversation',
  'sms',
  'email',
  'call',
  'llmCall',
  'monthlyFee',
  /** Creating, reading, updating or deleting a tenant resource record. */
  'resource',
  'booking',
  'payment',
  /** Notifying coordinators, escalating, asking for approval. */
  'coordination',
] as const;
export type CostedAction = (typeof COSTED_ACTIONS)[number];
export type CostTable = Readonly<Record<CostedAction, number>>;

export interface Balance {
  readonly tenantId: string;
  /** Spendable now. */
  readonly available: number;
  /** Held by open reservations. */
  readonly reserved: number;
  /** A `balance.low` event fires when `available` drops below this. */
  readonly lowBalanceThreshold: number;
  readonly updatedAt: string;
}

export interface LedgerEntry {
  readonly id: string;
  readonly tenantId: string;
  readonly type: LedgerEntryType;
  /** Effect on `available`: negative for reservations and fees, positive for credits and releases. */
  readonly amount: number;
  /**
   * The balance this entry left, on entries written by compare-and-set (credits, fees). Costed
   * operations (reserve, settle, release, debit) are written as deltas, concurrently with other
   * writers, and cannot know it: theirs is absent (the balance is the sum of the amounts).
   */
  readonly availableAfter?: number;
  readonly reservedAfter?: number;
  /** For settlements: what the operation finally cost (the reservation minus what came back). */
  readonly charged?: number;
  readonly action?: string;
  readonly agentId?: string;
  readonly executionId?: string;
  readonly reservationId?: string;
  /** USD cost beside the tokens (model calls). */
  readonly usd?: number;
  /** Billing period of a monthly fee, `YYYY-MM`. */
  readonly period?: string;
  readonly idempotencyKey: string;
  /** User id, `operator:<operator's user id>` (grants, adjustments), or `system:<component>`. */
  readonly actor: string;
  readonly createdAt: string;
  /** Credits: the caller's reference (a purchase's payment id, an operator's ticket). */
  readonly reference?: string;
  /** Operator grants and adjustments: why, in the operator's words. */
  readonly reason?: string;
  /**
   * On compare-and-set entries: position in the tenant's ledger (the n-th change of its balance,
   * counting every change). Delta entries have none: the ledger is ordered by time (its sort key
   * is `<createdAt>#<ULID>`), and the balance's change counter still counts every entry.
   */
  readonly seq?: number;
}

export interface Reservation {
  readonly id: string;
  readonly tenantId: string;
  readonly amount: number;
  readonly action: string;
  readonly agentId?: string;
  readonly executionId?: string;
  readonly status: 'held' | 'settled' | 'released';
  readonly createdAt: string;
  /** Housekeeping releases a reservation still held after this (epoch seconds). */
  readonly holdUntil: number;
  /** When it was settled or released. */
  readonly closedAt?: string;
  /** What a settled reservation finally cost. */
  readonly charged?: number;
}

/** Outcome of charging one tenant's monthly fee for a period: the billing run's Map step uses it. */
export type MonthlyFeeOutcome =
  | { readonly outcome: 'charged'; readonly entry: LedgerEntry }
  | { readonly outcome: 'already_charged'; readonly entry: LedgerEntry }
  | { readonly outcome: 'insufficient'; readonly available: number; readonly required: number };

// ---------------------------------------------------------------------------------------------
// The billing store. The rules (what a change does to the balance, when it is refused) live in
// the domain (`billing.ts`), which hands them to `record` as a plan; the store applies a plan
// atomically and re-plans when another writer got there first.

export type TenantStatus = 'active' | 'suspended';

/** Operations that take an idempotency key; a key is scoped to its operation. */
export type BillingOperation = 'reserve' | 'settle' | 'release' | 'debit' | 'credit' | 'monthly_fee';

export interface IdempotencyClaim {
  readonly operation: BillingOperation;
  readonly key: string;
  /** The request's parameters: the same key sent with other parameters is refused, not replayed. */
  readonly fingerprint: string;
  /** How long the key is remembered; absent: for good (monthly fees, one key per period). */
  readonly ttlSeconds?: number;
}

/** The state a plan is made from: read consistently, or learnt from a failed condition. */
export interface LedgerSnapshot {
  readonly balance: Balance;
  /** Changes applied to the balance so far (0: never touched). The plan's change is number seq + 1. */
  readonly seq: number;
  /** When asked for (`readTenant`); `undefined` means the tenant does not exist. */
  readonly tenantStatus?: TenantStatus;
  /** When asked for (`reservationId`); `undefined` means no such reservation. */
  readonly reservation?: Reservation;
}

/** Tokens a change adds to the tenant's usage of one (UTC) day. */
export interface UsageIncrement {
  readonly day: string;
  readonly charged: number;
  readonly credited: number;
  readonly agentId?: string;
  readonly action?: string;
}

/** One change of the balance, as the domain planned it: written all together or not at all. */
export interface LedgerChange {
  /** The balance after the change, as seen from the snapshot (exact for compare-and-set changes). */
  readonly available: number;
  readonly reserved: number;
  /**
   * Present on delta changes: written as `ADD` to the balance on the condition that neither part
   * goes below zero, whatever other writers did meanwhile (no compare-and-set, so no lost races).
   */
  readonly delta?: { readonly available: number; readonly reserved: number };
  readonly entry: LedgerEntry;
  readonly reservation?: { readonly open: Reservation } | { readonly close: Reservation };
  readonly usage?: UsageIncrement;
  /** Costed operations: refused at commit time unless the tenant is still active. */
  readonly requireActiveTenant?: boolean;
}

export interface LedgerRequest {
  readonly tenantId: string;
  readonly claim: IdempotencyClaim;
  /** Read the reservation (settle, release). */
  readonly reservationId?: string;
  /** Read the tenant's status. */
  readonly readTenant?: boolean;
  /**
   * Costed operations: the plan returns a delta change, which the store writes without comparing
   * the balance's change counter and without queueing behind this process's other changes.
   */
  readonly concurrent?: boolean;
}

/** What a change recorded, and what a repeat of its idempotency key returns. */
export interface RecordedChange {
  readonly entry: LedgerEntry;
  readonly reservation?: Reservation;
}

export type LedgerOutcome =
  | {
      readonly kind: 'applied';
      readonly change: RecordedChange;
      readonly before: Balance;
      readonly after: Balance;
    }
  | { readonly kind: 'replayed'; readonly change: RecordedChange; readonly fingerprint: string };

/** A tenant's usage on one UTC day, kept up to date in the same transaction as each entry. */
export interface UsageDay {
  readonly day: string;
  readonly charged: number;
  readonly credited: number;
  readonly byAgent: Readonly<Record<string, number>>;
  readonly byAction: Readonly<Record<string, number>>;
}

export interface Suspension {
  readonly tenantId: string;
  readonly reason: string;
  /** The billing period whose fee went unpaid, when that is the reason. */
  readonly period?: string;
  readonly suspendedAt: string;
  /** Agents this suspension paused (and a reactivation resumes). */
  readonly pausedAgentIds: readonly string[];
  /** When `tenant.suspended` went out; absent until it has. */
  readonly notifiedAt?: string;
}

export type SuspendResult = 'suspended' | 'already_suspended' | 'can_pay';

/** A held reservation past its hold, from the platform-level index of held reservations. */
export interface ExpiredHold {
  readonly tenantId: string;
  readonly reservationId: string;
  readonly holdUntil: number;
}

export interface BillingRepository {
  /**
   * Applies `plan(snapshot)` atomically: the balance (only from the state the plan saw), the
   * ledger entry, the idempotency claim and whatever else the change names. If another writer
   * changed the state first, plans again from the new state; a plan that throws writes nothing
   * and its error propagates. A claim already recorded is replayed without planning.
   */
  record(request: LedgerRequest, plan: (snapshot: LedgerSnapshot) => LedgerChange): Promise<LedgerOutcome>;
  getBalance(tenantId: string): Promise<Balance | undefined>;
  /** Sets the tenant's `balance.low` threshold; the balance itself is untouched. */
  setLowBalanceThreshold(tenantId: string, threshold: number, at: string): Promise<void>;
  findClaim(
    tenantId: string,
    operation: BillingOperation,
    key: string,
  ): Promise<{ readonly change: RecordedChange; readonly fingerprint: string } | undefined>;
  getReservation(tenantId: string, reservationId: string): Promise<Reservation | undefined>;
  /** Entries created on the days `from`..`to` (UTC, inclusive), newest first. */
  listLedger(
    tenantId: string,
    days: { from: string; to: string },
    page: PageRequest,
  ): Promise<Page<LedgerEntry>>;
  /** The usage of the days `from`..`to` that had any, oldest first. */
  usageDays(tenantId: string, from: string, to: string): Promise<UsageDay[]>;

  /**
   * Sets the tenant `suspended` and records the suspension, atomically; with
   * `unlessAvailableAtLeast`, only while the balance is below it (`can_pay` otherwise).
   */
  suspend(
    suspension: Suspension,
    options?: { readonly unlessAvailableAtLeast?: number },
  ): Promise<SuspendResult>;
  getSuspension(tenantId: string): Promise<Suspension | undefined>;
  /**
   * Remembers agents as paused by the suspension, before they are paused, so that none is
   * forgotten; false when there is no suspension any more (a top-up lifted it meanwhile).
   */
  notePausedAgents(tenantId: string, agentIds: readonly string[]): Promise<boolean>;
  markSuspensionNotified(tenantId: string, at: string): Promise<void>;
  /** Sets a suspended tenant `active` and drops the suspension record; false if it was not suspended. */
  reactivate(tenantId: string, at: string): Promise<boolean>;

  /** Held reservations whose hold ended before `nowEpoch`, among those due in `hour` (`YYYY-MM-DDTHH`). */
  listExpiredHolds(hour: string, nowEpoch: number, page: PageRequest): Promise<Page<ExpiredHold>>;
  /** Hours before this one (`YYYY-MM-DDTHH`) hold no expired reservation any more. */
  getSweepMark(): Promise<string | undefined>;
  setSweepMark(hour: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Purchases: tokens bought through the payment provider, credited once the payment succeeded.

export type PurchaseStatus = 'pending' | 'succeeded' | 'failed';

export interface Purchase {
  readonly id: string;
  readonly tenantId: string;
  /** Tokens bought. */
  readonly tokens: number;
  /** What they cost, in minor units of `currency` (the environment's price per token × tokens). */
  readonly amountMinor: number;
  readonly currency: string;
  /**
   * `pending`: no payment yet, or the customer still has to complete it (the provider's webhook
   * settles it); `succeeded`: paid and credited (`entryId`); `failed`: declined, nothing credited.
   */
  readonly status: PurchaseStatus;
  /** The payment provider (`local-payments`, `stripe`) and its payment id, once it has one. */
  readonly provider?: string;
  readonly paymentId?: string;
  /** The ledger entry that credited the tokens. */
  readonly entryId?: string;
  readonly failureReason?: string;
  readonly idempotencyKey: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface PurchaseRepository {
  /**
   * Records a new purchase under its idempotency key, or returns the one the key already made
   * (`created: false`), with no write.
   */
  create(purchase: Purchase): Promise<{ readonly purchase: Purchase; readonly created: boolean }>;
  get(tenantId: string, purchaseId: string): Promise<Purchase | undefined>;
  /**
   * Notes the provider's payment on a pending purchase (in the tenant's scope). Idempotent for the
   * same payment.
   */
  attachPayment(
    tenantId: string,
    purchaseId: string,
    provider: string,
    paymentId: string,
    at: string,
  ): Promise<Purchase>;
  /**
   * Platform-level: the lookup from a provider's payment to its purchase (the webhook's way in),
   * written before the payment is attached, so a webhook that outruns the attach still finds it.
   */
  recordPayment(provider: string, paymentId: string, tenantId: string, purchaseId: string): Promise<void>;
  /** The purchase a provider's payment pays for (platform-level; the webhook reads it). */
  findByPayment(
    provider: string,
    paymentId: string,
  ): Promise<{ tenantId: string; purchaseId: string } | undefined>;
  /** pending → succeeded with the entry that credited it; a purchase already succeeded is returned as is. */
  markSucceeded(tenantId: string, purchaseId: string, entryId: string, at: string): Promise<Purchase>;
  /** pending → failed; a purchase no longer pending is returned as is. */
  markFailed(tenantId: string, purchaseId: string, reason: string, at: string): Promise<Purchase>;
}
