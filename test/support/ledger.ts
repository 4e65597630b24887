import { dayOf } from '../../lambdas/domain/billing/calendar';
import type { BillingRepository, LedgerEntry } from '../../lambdas/domain/billing/ports';

/** Every ledger entry of a tenant written around now, in time order. */
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
  // The ledger's own order: its sort key, `<createdAt>#<entry id (a ULID)>`.
  const order = (entry: LedgerEntry) => `${entry.createdAt}#${entry.id}`;
  return entries.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}
