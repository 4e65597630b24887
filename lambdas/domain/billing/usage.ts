import { ValidationError } from '../shared/errors';
import type { Page } from '../shared/pagination';
import { addDays, dayOf, daysInRange, isDay } from './calendar';
import type { BillingDeps } from './ledger';
import type { LedgerEntry, UsageDay } from './ports';

/** Usage: ledger entries of a date range with their totals. */

/** The widest usage report: its totals read one small item per day of the range. */
export const USAGE_MAX_DAYS = 366;

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
