import { billingDeps } from '../../composition/billing';
import { type BillingDeps, suspendTenant } from '../../domain/billing/billing';
import { UNSCOPED } from '../../domain/shared/scopes';
import { logger } from '../../observability';
import {
  asStepError,
  parseStepInput,
  type SuspendTenantOutput,
  suspendTenantInput,
  UNPAID_MONTHLY_FEE,
} from './billing-run';

/**
 * The billing run's suspend step (statemachines/monthly-billing.asl.json, SuspendTenant), for a
 * tenant that could not pay the period's fee: suspends it, pauses its agents and publishes
 * `tenant.suspended` — unless tokens arrived since the charge step, in which case the domain
 * charges the fee instead and the tenant stays active (`charged`). Idempotent, so a retry or a
 * re-run is harmless.
 */
export function suspendTenantStep(deps: BillingDeps) {
  return async (event: unknown): Promise<SuspendTenantOutput> => {
    const { tenantId, period, available, required } = parseStepInput(
      suspendTenantInput(),
      event,
      'SuspendTenant',
    );
    try {
      // One tenant per invocation: its credentials, and only its.
      const tenant = await (deps.scopes ?? UNSCOPED).tenant(tenantId, async () => {
        await suspendTenant(deps, tenantId, UNPAID_MONTHLY_FEE, period);
        return deps.tenants.get(tenantId);
      });
      const outcome = tenant?.status === 'suspended' ? 'suspended' : 'charged';
      logger.info('Monthly fee unpaid', { tenantId, period, available, required, outcome });
      return { tenantId, period, outcome };
    } catch (error) {
      logger.error('Tenant not suspended', { tenantId, period, error: error as Error });
      throw asStepError(error);
    }
  };
}

export const handler = suspendTenantStep(billingDeps());
