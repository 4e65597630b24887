import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  ActionListFilter,
  ActionRecord,
  ActionRepository,
  ActionStatus,
} from '../../domain/actions/model';
import { ConflictError } from '../../domain/shared/errors';
import type { Page } from '../../domain/shared/pagination';
import { isConditionFailure, withoutKeys } from './conditions';
import { queryAll, queryPage } from './pagination';
import { newestFirstQuery, refusedStatus } from './status-index';

/**
 * Action records.
 *   action  pk = T#<tenantId>#ACTIONS                 sk = <actionId>   (ULID: newest last)
 *           gsi1pk = T#<tenantId>#ACTIONS#<status>    gsi1sk = <actionId>
 *
 * Two access paths over one item: the base table lists all of a tenant's actions newest first,
 * and gsi1 partitions them by *current* status, so "actions in status s" (the list filter, and
 * the emergency stop's sweep of awaiting_confirmation / awaiting_approval) is a Query of exactly
 * those items rather than a filter over the tenant's history. A transition rewrites `gsi1pk` in
 * the same conditional UpdateItem that moves `status`, so the index can never disagree with the
 * item for longer than the index's propagation delay.
 */
const actionsPartition = (tenantId: string) => `T#${tenantId}#ACTIONS`;
export const actionKey = (tenantId: string, actionId: string) => ({
  pk: actionsPartition(tenantId),
  sk: actionId,
});
const statusIndexPk = (tenantId: string, status: ActionStatus) => `T#${tenantId}#ACTIONS#${status}`;
const statusIndex = (tenantId: string, actionId: string, status: ActionStatus) => ({
  gsi1pk: statusIndexPk(tenantId, status),
  gsi1sk: actionId,
});

function toAction(item: Record<string, unknown>): ActionRecord {
  // DynamoDB returns attributes in no particular order; lead with the ones people look for.
  const { id, tenantId, agentId, action, status, ...rest } = withoutKeys<ActionRecord>(item);
  return { id, tenantId, agentId, action, status, ...rest };
}

export class DynamoActionRepository implements ActionRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(record: ActionRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...actionKey(record.tenantId, record.id),
            ...statusIndex(record.tenantId, record.id, record.status),
            entity: 'action',
            ...record,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new ConflictError(`Action ${record.id} already exists`);
      throw error;
    }
  }

  async get(tenantId: string, actionId: string): Promise<ActionRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: actionKey(tenantId, actionId), ConsistentRead: true }),
    );
    return Item ? toAction(Item) : undefined;
  }

  async transition(
    tenantId: string,
    actionId: string,
    from: readonly ActionStatus[],
    patch: Partial<Omit<ActionRecord, 'id' | 'tenantId' | 'createdAt'>> & {
      readonly status: ActionStatus;
      readonly updatedAt: string;
    },
  ): Promise<{ record: ActionRecord } | { refusedFrom: ActionStatus | 'missing' }> {
    if (from.length === 0) {
      // `IN ()` is not an expression; allowing no status means refusing whatever is there.
      const current = await this.get(tenantId, actionId);
      return { refusedFrom: current?.status ?? 'missing' };
    }
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':gsi1pk': statusIndexPk(tenantId, patch.status),
    };
    const set = ['gsi1pk = :gsi1pk'];
    let i = 0;
    for (const [field, value] of Object.entries(patch)) {
      // The key fields are the item's identity; the type already excludes them, this makes sure.
      if (value === undefined || field === 'id' || field === 'tenantId' || field === 'createdAt') continue;
      names[`#f${i}`] = field;
      values[`:v${i}`] = value;
      set.push(`#f${i} = :v${i}`);
      i++;
    }
    from.forEach((status, n) => {
      values[`:from${n}`] = status;
    });
    const fromList = from.map((_, n) => `:from${n}`).join(', ');
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: actionKey(tenantId, actionId),
          UpdateExpression: `SET ${set.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${fromList})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
          // The item as the winner left it, in the same round trip: the loser reports its status.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { record: toAction(Attributes ?? {}) };
    } catch (error) {
      return { refusedFrom: refusedStatus<ActionStatus>(error) };
    }
  }

  list(tenantId: string, filter: ActionListFilter): Promise<Page<ActionRecord>> {
    return queryPage<ActionRecord>({
      client: this.client,
      input: newestFirstQuery(
        this.tableName,
        filter.status
          ? { gsi1pk: statusIndexPk(tenantId, filter.status) }
          : { pk: actionsPartition(tenantId) },
        filter.agentId,
      ),
      // The cursor is only valid for the same tenant and filters it was issued for.
      scope: JSON.stringify(['actions', tenantId, filter.status, filter.agentId]),
      limit: filter.limit,
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
      map: toAction,
    });
  }

  /**
   * A Query of the status partition (gsi1, so eventually consistent: an action created in the
   * last instant may be missed; the emergency stop is set before this sweep, and the decision
   * engine refuses new actions under it, so nothing new lands in an open status afterwards).
   */
  async listAllInStatus(tenantId: string, status: ActionStatus, agentId?: string): Promise<ActionRecord[]> {
    const items = await queryAll(
      this.client,
      newestFirstQuery(this.tableName, { gsi1pk: statusIndexPk(tenantId, status) }, agentId),
    );
    return items.map(toAction);
  }
}
