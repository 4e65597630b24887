import { billingDeps } from '../../composition/billing';
import { type BillingDeps, chargeMonthlyFee } from '../../domain/billing/billing';
import { UNSCOPED } from '../../domain/shared/scopes';
import { logger } from '../../observability';
import {
  asStepError,
  BILLING_RUN_ACTOR,
  type ChargeMonthlyFeeOutput,
  chargeMonthlyFeeInput,
  parseStepInput,
} from './billing-run';

/**
 * The billing run's charge step (statemachines/monthly-billing.asl.json, ChargeMonthlyFee), one
 * tenant per invocation: charges the period's monthly fee once (a repeat returns the first charge
 * as `already_charged`), or reports `insufficient` so that the state machine suspends the tenant.
 * Errors propagate, renamed for the state machine, which retries or records them.
 */
export function chargeMonthlyFeeStep(deps: BillingDeps) {
  return async (event: unknown): Promise<ChargeMonthlyFeeOutput> => {
    const { tenantId, period } = parseStepInput(chargeMonthlyFeeInput(), event, 'ChargeMonthlyFee');
    try {
      // One tenant per invocation: its credentials, and only its.
      const result = await (deps.scopes ?? UNSCOPED).tenant(tenantId, () =>
        chargeMonthlyFee(deps, tenantId, period, BILLING_RUN_ACTOR),
      );
      logger.info('Monthly fee', { tenantId, period, outcome: result.outcome });
      if (result.outcome === 'insufficient') {
        const { available, required } = result;
        return { tenantId, period, outcome: 'insufficient', available, required };
      }
      return { tenantId, period, outcome: result.outcome, entryId: result.entry.id };
    } catch (error) {
      logger.error('Monthly fee not charged', { tenantId, period, error: error as Error });
      throw asStepError(error);
    }
  };
}

export const handler = chargeMonthlyFeeStep(billingDeps());
