import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_LOW_BALANCE_THRESHOLD } from '../../domain/billing/billing';
import { hourOf } from '../../domain/billing/calendar';
import type {
  Balance,
  BillingOperation,
  LedgerChange,
  LedgerEntry,
  RecordedChange,
  Reservation,
  Suspension,
  TenantStatus,
  UsageDay,
} from '../../domain/billing/ports';
import { withoutKeys } from './conditions';

/**
 * Balance, ledger, reservations, idempotency claims, daily usage and suspensions.
 *   balance       pk = T#<tenantId>           sk = BALANCE        available, reserved, seq (changes so far = ledger entries)
 *   ledger entry  pk = T#<tenantId>#LEDGER    sk = <createdAt ISO>#<entryId>   (time order, date ranges)
 *   reservation   pk = T#<tenantId>#RSV       sk = <reservationId>
 *                 while held: gsi1pk = RSVHELD#<hour the hold ends, YYYY-MM-DDTHH>
 *                             gsi1sk = <holdUntil, 12 digits>#<tenantId>#<reservationId>
 *                 (platform-level, read by housekeeping only; closed reservations leave it and expire)
 *   claim         pk = T#<tenantId>#BILLKEY   sk = <operation>#<idempotency key>  → the first result
 *   usage day     pk = T#<tenantId>#USAGE     sk = <YYYY-MM-DD>   charged, credited, agent:<id>, action:<name>
 *   suspension    pk = T#<tenantId>           sk = SUSPENSION     reason, period, pausedAgentIds
 *   sweep mark    pk = BILLING#HOUSEKEEPING   sk = RESERVATIONS   (platform-level)
 *
 * Every balance change is one TransactWriteItems: the balance; the ledger entry; the claim
 * (`attribute_not_exists`); and, as the change needs, the reservation, the day's usage (`ADD`) and
 * a ConditionCheck that the tenant is active. Costed operations update the balance by `ADD` on the
 * condition that it stays at or above zero (ledger-transaction.ts `balanceDelta`); credits and
 * fees set it to the values their plan computed, on the condition that its `seq` is still the one
 * the plan was made from. A failed condition returns the item as it is now (ALL_OLD), so a retry
 * costs no extra read before planning again.
 */
export const balanceKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'BALANCE' });
export const suspensionKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'SUSPENSION' });
export const ledgerPartition = (tenantId: string) => `T#${tenantId}#LEDGER`;
export const ledgerKey = (entry: Pick<LedgerEntry, 'tenantId' | 'createdAt' | 'id'>) => ({
  pk: ledgerPartition(entry.tenantId),
  sk: `${entry.createdAt}#${entry.id}`,
});
export const reservationKey = (tenantId: string, reservationId: string) => ({
  pk: `T#${tenantId}#RSV`,
  sk: reservationId,
});
export const HELD_PREFIX = 'RSVHELD#';
export const heldIndexKey = (reservation: Pick<Reservation, 'tenantId' | 'id' | 'holdUntil'>) => ({
  gsi1pk: `${HELD_PREFIX}${hourOf(new Date(reservation.holdUntil * 1000))}`,
  gsi1sk: `${epochKey(reservation.holdUntil)}#${reservation.tenantId}#${reservation.id}`,
});
export const epochKey = (seconds: number) => String(seconds).padStart(12, '0');
export const claimKey = (tenantId: string, operation: BillingOperation, key: string) => ({
  pk: `T#${tenantId}#BILLKEY`,
  sk: `${operation}#${key}`,
});
export const usagePartition = (tenantId: string) => `T#${tenantId}#USAGE`;
export const SWEEP_KEY = { pk: 'BILLING#HOUSEKEEPING', sk: 'RESERVATIONS' };
/** Closed reservations are kept this long for support; the ledger keeps their story for good. */
export const CLOSED_RESERVATION_TTL_SECONDS = 90 * 86_400;
export const AGENT_ATTRIBUTE = 'agent:';
export const ACTION_ATTRIBUTE = 'action:';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
export type Item = Record<string, unknown>;

export const number = (value: unknown): number => (typeof value === 'number' ? value : 0);

export function toBalance(tenantId: string, item: Item | undefined): { balance: Balance; seq: number } {
  return {
    balance: {
      tenantId,
      available: number(item?.available),
      reserved: number(item?.reserved),
      lowBalanceThreshold:
        typeof item?.lowBalanceThreshold === 'number'
          ? item.lowBalanceThreshold
          : DEFAULT_LOW_BALANCE_THRESHOLD,
      updatedAt: typeof item?.updatedAt === 'string' ? item.updatedAt : '',
    },
    seq: number(item?.seq),
  };
}

export function toReservation(item: Item): Reservation {
  const { expiresAt: _x, ...rest } = withoutKeys<Reservation & Item>(item);
  return rest as Reservation;
}

export function toSuspension(item: Item): Suspension {
  const { pausedAgentIds, ...rest } = withoutKeys<Suspension & Item>(item);
  return { ...rest, pausedAgentIds: pausedAgentIds instanceof Set ? [...pausedAgentIds].map(String) : [] };
}

export function toUsageDay(item: Item): UsageDay {
  const byAgent: Record<string, number> = {};
  const byAction: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(AGENT_ATTRIBUTE)) byAgent[name.slice(AGENT_ATTRIBUTE.length)] = number(value);
    else if (name.startsWith(ACTION_ATTRIBUTE)) byAction[name.slice(ACTION_ATTRIBUTE.length)] = number(value);
  }
  return {
    day: String(item.sk),
    charged: number(item.charged),
    credited: number(item.credited),
    byAgent,
    byAction,
  };
}

export const statusOf = (item: Item | undefined): TenantStatus | undefined =>
  item === undefined ? undefined : item.status === 'suspended' ? 'suspended' : 'active';

export function recorded(change: LedgerChange): RecordedChange {
  if (!change.reservation) return { entry: change.entry };
  return {
    entry: change.entry,
    reservation: 'open' in change.reservation ? change.reservation.open : change.reservation.close,
  };
}

export function storedClaim(item: Item): { change: RecordedChange; fingerprint: string } {
  return { change: item.result as RecordedChange, fingerprint: String(item.fingerprint) };
}
