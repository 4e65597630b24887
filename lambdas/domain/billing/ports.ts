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
  readonly availableAfter: number;
  readonly reservedAfter: number;
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
  /** User id, or `system:<component>`. */
  readonly actor: string;
  readonly createdAt: string;
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
}

/** Outcome of charging one tenant's monthly fee for a period: the billing run's Map step uses it. */
export type MonthlyFeeOutcome =
  | { readonly outcome: 'charged'; readonly entry: LedgerEntry }
  | { readonly outcome: 'already_charged'; readonly entry: LedgerEntry }
  | { readonly outcome: 'insufficient'; readonly available: number; readonly required: number };
