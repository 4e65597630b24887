import { DEFAULT_LOW_BALANCE_THRESHOLD } from '../../domain/billing/billing';
import type {
  Balance,
  IdempotencyClaim,
  LedgerChange,
  LedgerRequest,
  LedgerSnapshot,
  RecordedChange,
  Reservation,
  UsageIncrement,
} from '../../domain/billing/ports';
import {
  ACTION_ATTRIBUTE,
  AGENT_ATTRIBUTE,
  balanceKey,
  CLOSED_RESERVATION_TTL_SECONDS,
  claimKey,
  heldIndexKey,
  ledgerKey,
  recorded,
  reservationKey,
  type TransactItem,
  usagePartition,
} from './billing-items';
import { tenantKey } from './tenant-repository';

/** Where each item sits in a change's transaction, to read its cancellation reason. */
export interface TransactionIndex {
  balance: number;
  claim: number;
  ledger: number;
  reservation?: number;
  tenant?: number;
}

/** The one TransactWriteItems a balance change is: see billing-items.ts. */
export function transaction(
  tableName: string,
  request: LedgerRequest,
  snapshot: LedgerSnapshot,
  change: LedgerChange,
): { items: TransactItem[]; at: TransactionIndex } {
  const { tenantId } = request;
  const { entry } = change;
  const balanceSet = (): TransactItem => ({
    Update: {
      TableName: tableName,
      Key: balanceKey(tenantId),
      UpdateExpression:
        'SET available = :available, reserved = :reserved, seq = :next, updatedAt = :at, ' +
        'tenantId = :tenantId, entity = :entity, ' +
        'lowBalanceThreshold = if_not_exists(lowBalanceThreshold, :threshold)',
      // Compare-and-set: only from the state the plan was made from. 0 = never written.
      ConditionExpression: snapshot.seq === 0 ? 'attribute_not_exists(seq)' : 'seq = :seq',
      ExpressionAttributeValues: {
        ':available': change.available,
        ':reserved': change.reserved,
        ':next': snapshot.seq + 1,
        ':at': entry.createdAt,
        ':tenantId': tenantId,
        ':entity': 'balance',
        ':threshold': DEFAULT_LOW_BALANCE_THRESHOLD,
        ...(snapshot.seq === 0 ? {} : { ':seq': snapshot.seq }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  });
  const items: TransactItem[] = [
    change.delta
      ? balanceDelta(tableName, tenantId, change.delta, entry.createdAt, snapshot.balance)
      : balanceSet(),
    claimPut(tableName, tenantId, request.claim, recorded(change), entry.createdAt),
    {
      Put: {
        TableName: tableName,
        Item: { ...ledgerKey(entry), entity: 'ledgerEntry', ...entry },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  ];
  const at: TransactionIndex = { balance: 0, claim: 1, ledger: 2 };
  if (change.reservation) {
    at.reservation = items.length;
    items.push(
      'open' in change.reservation
        ? reservationPut(tableName, change.reservation.open)
        : reservationClose(tableName, change.reservation.close),
    );
  }
  if (change.usage) items.push(usageUpdate(tableName, tenantId, change.usage));
  if (change.requireActiveTenant) {
    at.tenant = items.length;
    items.push({
      ConditionCheck: {
        TableName: tableName,
        Key: tenantKey(tenantId),
        ConditionExpression: '#status = :active',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':active': 'active' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
  }
  return { items, at };
}

/**
 * A delta change: `ADD` to the balance, on the condition only that what it takes is there (a
 * taking part below zero fails), and one more on the change counter, so a compare-and-set writer
 * that planned before it re-plans. Concurrent deltas do not fail each other: they commit in any
 * order and the balance is their sum.
 *
 * A change that takes from `available` also names which side of the tenant's `balance.low`
 * threshold the balance is on before it, as the snapshot it was planned from says: at least
 * threshold + take (stays above), from threshold up to that (crosses below: this change is the one
 * that sends `balance.low`), or below the threshold (already low). If the balance is not where the
 * snapshot put it, the condition fails and returns the balance as it is (ALL_OLD) to plan again
 * from, so exactly one change crosses the threshold, as with compare-and-set, but without
 * conflicting with the others that stay on one side of it.
 */
export function balanceDelta(
  tableName: string,
  tenantId: string,
  delta: { readonly available: number; readonly reserved: number },
  at: string,
  before: Pick<Balance, 'available' | 'lowBalanceThreshold'>,
): TransactItem {
  const guards: string[] = [];
  const values: Record<string, unknown> = {
    ':available': delta.available,
    ':reserved': delta.reserved,
    ':one': 1,
    ':at': at,
    ':tenantId': tenantId,
    ':entity': 'balance',
    ':threshold': DEFAULT_LOW_BALANCE_THRESHOLD,
  };
  if (delta.available < 0) {
    const take = -delta.available;
    const low = before.lowBalanceThreshold;
    if (low <= 0) {
      guards.push('available >= :take');
      values[':take'] = take;
    } else if (before.available >= low + take) {
      guards.push('available >= :staysAbove');
      values[':staysAbove'] = low + take;
    } else if (before.available >= low) {
      guards.push('available >= :take AND available >= :low AND available < :staysAbove');
      Object.assign(values, { ':take': take, ':low': low, ':staysAbove': low + take });
    } else {
      guards.push('available >= :take AND available < :low');
      Object.assign(values, { ':take': take, ':low': low });
    }
  }
  if (delta.reserved < 0) {
    guards.push('reserved >= :takeReserved');
    values[':takeReserved'] = -delta.reserved;
  }
  return {
    Update: {
      TableName: tableName,
      Key: balanceKey(tenantId),
      UpdateExpression:
        'ADD available :available, reserved :reserved, seq :one ' +
        'SET updatedAt = :at, tenantId = :tenantId, entity = :entity, ' +
        'lowBalanceThreshold = if_not_exists(lowBalanceThreshold, :threshold)',
      ...(guards.length > 0 ? { ConditionExpression: guards.join(' AND ') } : {}),
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

export function claimPut(
  tableName: string,
  tenantId: string,
  claim: IdempotencyClaim,
  result: RecordedChange,
  at: string,
): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...claimKey(tenantId, claim.operation, claim.key),
        entity: 'billingClaim',
        operation: claim.operation,
        fingerprint: claim.fingerprint,
        result,
        createdAt: at,
        ...(claim.ttlSeconds === undefined
          ? {}
          : { expiresAt: Math.floor(Date.parse(at) / 1000) + claim.ttlSeconds }),
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

export function reservationPut(tableName: string, reservation: Reservation): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...reservationKey(reservation.tenantId, reservation.id),
        ...heldIndexKey(reservation),
        entity: 'reservation',
        ...reservation,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Settled or released: only from held, and out of the held index. */
export function reservationClose(tableName: string, reservation: Reservation): TransactItem {
  const closedAt = reservation.closedAt ?? new Date().toISOString();
  return {
    Update: {
      TableName: tableName,
      Key: reservationKey(reservation.tenantId, reservation.id),
      UpdateExpression: `SET #status = :status, closedAt = :closedAt, expiresAt = :expiresAt${
        reservation.charged === undefined ? '' : ', charged = :charged'
      } REMOVE gsi1pk, gsi1sk`,
      ConditionExpression: '#status = :held',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': reservation.status,
        ':held': 'held',
        ':closedAt': closedAt,
        ':expiresAt': Math.floor(Date.parse(closedAt) / 1000) + CLOSED_RESERVATION_TTL_SECONDS,
        ...(reservation.charged === undefined ? {} : { ':charged': reservation.charged }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The day's totals move with the entry (top-level attributes: ADD does not reach into maps). */
export function usageUpdate(tableName: string, tenantId: string, usage: UsageIncrement): TransactItem {
  const names: Record<string, string> = {};
  const adds = ['charged :charged', 'credited :credited'];
  if (usage.agentId !== undefined) {
    names['#agent'] = `${AGENT_ATTRIBUTE}${usage.agentId}`;
    adds.push('#agent :charged');
  }
  if (usage.action !== undefined) {
    names['#action'] = `${ACTION_ATTRIBUTE}${usage.action}`;
    adds.push('#action :charged');
  }
  return {
    Update: {
      TableName: tableName,
      Key: { pk: usagePartition(tenantId), sk: usage.day },
      UpdateExpression: `SET entity = :entity, tenantId = :tenantId ADD ${adds.join(', ')}`,
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: {
        ':entity': 'usageDay',
        ':tenantId': tenantId,
        ':charged': usage.charged,
        ':credited': usage.credited,
      },
    },
  };
}
