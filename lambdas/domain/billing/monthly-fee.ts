import { NotFoundError } from '../shared/errors';
import { newId } from '../shared/ids';
import { InsufficientBalanceError } from './errors';
import { apply, type BillingDeps, change, period, usage } from './ledger';
import type { MonthlyFeeOutcome } from './ports';

/** The monthly fee, charged once per tenant per period. */

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
