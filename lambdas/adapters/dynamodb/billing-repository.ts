import type {
  Balance,
  BillingOperation,
  BillingRepository,
  ExpiredHold,
  LedgerChange,
  LedgerEntry,
  LedgerOutcome,
  LedgerRequest,
  LedgerSnapshot,
  Reservation,
  SuspendResult,
  Suspension,
  UsageDay,
} from '../../domain/billing/ports';
import type { Page, PageRequest } from '../../domain/shared/pagination';
import type { TableClient } from './document-client';
import { DynamoHousekeepingStore } from './housekeeping-store';
import {
  Backoff,
  type BillingRepositoryOptions,
  type ContentionCounters,
  DynamoLedgerStore,
} from './ledger-store';
import { DynamoSuspensionStore } from './suspension-store';
import { DynamoUsageStore } from './usage-store';

export type { BillingRepositoryOptions, ContentionCounters } from './ledger-store';

/**
 * The billing store on the one table, by responsibility (the key layout is in billing-items.ts):
 *   ledger-store.ts        balance changes: balance, ledger entry, claim, reservation in one transaction
 *   usage-store.ts         ledger entries by date range, per-day usage
 *   suspension-store.ts    suspensions (tenant status and what they paused)
 *   housekeeping-store.ts  the held-reservation index and the sweep mark (platform-level)
 */
export class DynamoBillingRepository implements BillingRepository {
  private readonly ledger: DynamoLedgerStore;
  private readonly usage: DynamoUsageStore;
  private readonly suspensions: DynamoSuspensionStore;
  private readonly housekeeping: DynamoHousekeepingStore;

  constructor(client: TableClient, tableName: string, options: BillingRepositoryOptions = {}) {
    const backoff = new Backoff(options);
    this.ledger = new DynamoLedgerStore(client, tableName, options, backoff);
    this.usage = new DynamoUsageStore(client, tableName);
    this.suspensions = new DynamoSuspensionStore(client, tableName, backoff);
    this.housekeeping = new DynamoHousekeepingStore(client, tableName);
  }

  /** How often changes had to be planned again; read by the bench. */
  get contention(): ContentionCounters {
    return this.ledger.contention;
  }

  record(request: LedgerRequest, plan: (snapshot: LedgerSnapshot) => LedgerChange): Promise<LedgerOutcome> {
    return this.ledger.record(request, plan);
  }
  getBalance(tenantId: string): Promise<Balance | undefined> {
    return this.ledger.getBalance(tenantId);
  }
  setLowBalanceThreshold(tenantId: string, threshold: number, at: string): Promise<void> {
    return this.ledger.setLowBalanceThreshold(tenantId, threshold, at);
  }
  findClaim(tenantId: string, operation: BillingOperation, key: string) {
    return this.ledger.findClaim(tenantId, operation, key);
  }
  getReservation(tenantId: string, reservationId: string): Promise<Reservation | undefined> {
    return this.ledger.getReservation(tenantId, reservationId);
  }

  listLedger(
    tenantId: string,
    days: { from: string; to: string },
    page: PageRequest,
  ): Promise<Page<LedgerEntry>> {
    return this.usage.listLedger(tenantId, days, page);
  }
  usageDays(tenantId: string, from: string, to: string): Promise<UsageDay[]> {
    return this.usage.usageDays(tenantId, from, to);
  }

  suspend(
    suspension: Suspension,
    options?: { readonly unlessAvailableAtLeast?: number },
  ): Promise<SuspendResult> {
    return this.suspensions.suspend(suspension, options);
  }
  getSuspension(tenantId: string): Promise<Suspension | undefined> {
    return this.suspensions.getSuspension(tenantId);
  }
  notePausedAgents(tenantId: string, agentIds: readonly string[]): Promise<boolean> {
    return this.suspensions.notePausedAgents(tenantId, agentIds);
  }
  markSuspensionNotified(tenantId: string, at: string): Promise<void> {
    return this.suspensions.markSuspensionNotified(tenantId, at);
  }
  reactivate(tenantId: string, at: string): Promise<boolean> {
    return this.suspensions.reactivate(tenantId, at);
  }

  listExpiredHolds(hour: string, nowEpoch: number, page: PageRequest): Promise<Page<ExpiredHold>> {
    return this.housekeeping.listExpiredHolds(hour, nowEpoch, page);
  }
  getSweepMark(): Promise<string | undefined> {
    return this.housekeeping.getSweepMark();
  }
  setSweepMark(hour: string): Promise<void> {
    return this.housekeeping.setSweepMark(hour);
  }
}
