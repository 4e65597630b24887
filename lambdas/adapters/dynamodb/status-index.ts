import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, itemAtFailure } from './conditions';
import { GSI1 } from './table-definition';

/**
 * Helpers for the entities listed two ways (actions, approvals): everything of a tenant's in the
 * base partition, and by *current* status in a gsi1 partition whose `gsi1pk` the status
 * transition rewrites in the same conditional write that moves `status`.
 */

/**
 * A Query of one partition, newest first (sort keys are ULIDs): a base-table partition (`pk`) or
 * a status partition of gsi1 (`gsi1pk`), optionally narrowed to one agent's items.
 */
export function newestFirstQuery(
  tableName: string,
  partition: { readonly pk: string } | { readonly gsi1pk: string },
  agentId?: string,
): Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'> {
  return {
    TableName: tableName,
    ...('gsi1pk' in partition
      ? { IndexName: GSI1, KeyConditionExpression: 'gsi1pk = :pk' }
      : { KeyConditionExpression: 'pk = :pk' }),
    ...(agentId ? { FilterExpression: 'agentId = :agentId' } : {}),
    ExpressionAttributeValues: {
      ':pk': 'gsi1pk' in partition ? partition.gsi1pk : partition.pk,
      ...(agentId ? { ':agentId': agentId } : {}),
    },
    ScanIndexForward: false,
  };
}

/**
 * Why a conditional status transition (`ReturnValuesOnConditionCheckFailure: ALL_OLD`) was
 * refused: the status the item was left in by whoever moved it first, or `missing`. Any error
 * other than the failed condition is rethrown.
 */
export function refusedStatus<S extends string>(error: unknown): S | 'missing' {
  if (!isConditionFailure(error)) throw error;
  const item = itemAtFailure(error);
  return item ? (item.status as S) : 'missing';
}
