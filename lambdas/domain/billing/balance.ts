import { NotFoundError } from '../shared/errors';
import { type BillingDeps, DEFAULT_LOW_BALANCE_THRESHOLD, tokens } from './ledger';
import type { Balance, TenantStatus } from './ports';

/** Reading the balance, and the one setting on it. */

export function emptyBalance(tenantId: string, at: string): Balance {
  return {
    tenantId,
    available: 0,
    reserved: 0,
    lowBalanceThreshold: DEFAULT_LOW_BALANCE_THRESHOLD,
    updatedAt: at,
  };
}

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

/** The balance and the tenant's status (a suspended tenant's tokens cannot be spent). */
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
