/**
 * Tokens and billing (DESIGN §3.7), one module per responsibility:
 *   ledger.ts        how every balance change is planned, recorded and announced (the core)
 *   spending.ts      costed operations: reserve → settle | release, debit
 *   credits.ts       tokens added (purchases once paid, operator grants and adjustments, refunds)
 *   monthly-fee.ts   the monthly fee, once per tenant and period
 *   suspension.ts    suspending a tenant that cannot pay; reactivating it once it can
 *   housekeeping.ts  releasing reservations past their hold
 *   balance.ts       reading the balance and its low-balance threshold
 *   usage.ts         ledger entries and totals over a date range
 * This module is their public face: callers import from here.
 */
export { emptyBalance, getBalance, setLowBalanceThreshold } from './balance';
export { type CreditResult, credit } from './credits';
export { type HousekeepingResult, releaseExpiredReservations } from './housekeeping';
export {
  BILLING_ACTOR,
  type BillingDeps,
  type BillingLog,
  type ChargeContext,
  CLAIM_TTL_SECONDS,
  CREDIT_TYPES,
  type CreditType,
  DEFAULT_HOLD_SECONDS,
  DEFAULT_LOW_BALANCE_THRESHOLD,
  eventsOf,
  HOUSEKEEPING_ACTOR,
  MAX_HOLD_SECONDS,
  type ReserveOptions,
} from './ledger';
export { chargeMonthlyFee } from './monthly-fee';
export { debit, release, reserve, settle } from './spending';
export { reactivateIfPaid, suspendTenant } from './suspension';
export {
  getUsage,
  totalUsage,
  USAGE_MAX_DAYS,
  type UsageQuery,
  type UsageReport,
  type UsageTotals,
} from './usage';
