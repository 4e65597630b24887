import {
  type AttributeValue,
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/shared/errors';

export function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return error instanceof ConditionalCheckFailedException;
}

/**
 * The item as it was when a condition failed (`ReturnValuesOnConditionCheckFailure: ALL_OLD`).
 * The document client does not unmarshall exceptions, so this does.
 */
export function itemAtFailure(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? unmarshall(item) : undefined;
}

/** Same, for the `index`-th item of a cancelled transaction. */
export function transactionItemAtFailure(
  error: unknown,
  index: number,
): { failed: boolean; item?: Record<string, unknown> } {
  if (!(error instanceof TransactionCanceledException)) return { failed: false };
  const reason = error.CancellationReasons?.[index];
  if (reason?.Code !== 'ConditionalCheckFailed') return { failed: false };
  return reason.Item ? { failed: true, item: unmarshall(reason.Item) } : { failed: true };
}

/** Strips the table's key attributes from an item before it leaves the adapter. */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, entity: _e, expiresAt: _x, ...rest } = item;
  return rest as T;
}

/** A failed `version = :expected` condition: 404 if the item is gone, else 409 with the current version. */
export function versionConflict(entity: string, id: string, error: unknown): Error {
  const item = itemAtFailure(error);
  if (!item) return new NotFoundError(entity, id);
  return new ConflictError(
    `${entity} ${id} was changed by someone else (now version ${String(item.version)}); re-read it and retry`,
    {
      currentVersion: item.version,
    },
  );
}
