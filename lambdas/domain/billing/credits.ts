import { NotFoundError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import { getBalance } from './balance';
import {
  apply,
  type BillingDeps,
  CREDIT_TYPES,
  type CreditType,
  change,
  claim,
  tokens,
  usage,
} from './ledger';
import type { Balance, LedgerEntry, TenantStatus } from './ports';
import { reactivateIfPaid } from './suspension';

/** Credits: tokens added to a balance, and the reactivation they may bring. */

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
