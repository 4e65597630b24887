import { dayOf } from '../../lambdas/domain/billing/calendar';
import type { BillingRepository, LedgerEntry } from '../../lambdas/domain/billing/ports';

/** Every ledger entry of a tenant written around now, in the order they were made. */
export async function ledgerOf(store: BillingRepository, tenantId: string): Promise<LedgerEntry[]> {
  const days = {
    from: dayOf(new Date(Date.now() - 86_400_000)),
    to: dayOf(new Date(Date.now() + 86_400_000)),
  };
  const entries: LedgerEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listLedger(tenantId, days, { limit: 100, ...(cursor ? { cursor } : {}) });
    entries.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return entries.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
}
