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
  label,
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
 * Adds tokens (a purchase once paid, an operator's grant or adjustment, a refund). Only an
 * adjustment may be negative (an operator correcting a balance), and never below zero: a 400 on
 * `body.amount` says how much there is. A suspended tenant whose balance now covers the monthly
 * fee is reactivated: see `reactivateIfPaid`. A repeat of the key credits nothing, returns the
 * first entry, and still finishes a reactivation a crash interrupted.
 */
export async function credit(
  deps: BillingDeps,
  tenantId: string,
  amount: number,
  details: { readonly type: CreditType; readonly reference?: string; readonly reason?: string },
  key: string,
  actor: string,
): Promise<CreditResult> {
  if (details.type === 'adjustment' && amount < 0) tokens('amount', -amount);
  else tokens('amount', amount);
  if (details.reason !== undefined) label('reason', details.reason, 500);
  if (!(CREDIT_TYPES as readonly string[]).includes(details.type)) {
    throw ValidationError.forField('type', `must be one of ${CREDIT_TYPES.join(', ')}`);
  }
  const entryId = newId('ledgerEntry');
  const outcome = await apply(
    deps,
    {
      tenantId,
      readTenant: true,
      claim: claim('credit', key, {
        amount,
        type: details.type,
        reference: details.reference,
        reason: details.reason,
      }),
    },
    (s) => {
      if (s.tenantStatus === undefined) throw new NotFoundError('Tenant', tenantId);
      if (s.balance.available + amount < 0) {
        throw ValidationError.forField(
          'body.amount',
          `would take the available balance (${s.balance.available}) below zero`,
        );
      }
      const at = deps.now();
      return change(
        s,
        { tenantId, entryId, key, actor, at },
        { available: amount, reserved: 0 },
        { type: details.type, reference: details.reference, reason: details.reason },
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
