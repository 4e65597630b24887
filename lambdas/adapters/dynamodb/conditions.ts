import { ConflictError, NotFoundError } from '../../domain/shared/errors';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

export function isConditionFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

/** Which items of a transaction failed their condition (by position), if it was cancelled for that. */
export function failedConditions(error: unknown): number[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  const reasons = error.CancellationReasons ?? [];
  const failed = reasons.flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
  return failed.length > 0 ? failed : undefined;
}

/** Strips the table's key attributes from an item before it leaves the adapter. */
export function withoutKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, entity: _e, expiresAt: _x, ...rest } = item;
  return rest as T;
}

/** A failed `version = :expected` condition: 404 if the item is gone, else 409 with the current version. */
export function versionConflict(entity: string, id: string, error: unknown): Error {
  const item = (error as { Item?: Record<string, unknown> }).Item;
  if (!item) return new NotFoundError(entity, id);
  return new ConflictError(`${entity} ${id} was changed by someone else (now version ${String(item.version)}); re-read it and retry`, {
    currentVersion: item.version,
  });
}
