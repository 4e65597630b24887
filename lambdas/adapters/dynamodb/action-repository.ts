import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  ActionListFilter,
  ActionRecord,
  ActionRepository,
  ActionStatus,
  ExecutionStart,
} from '../../domain/actions/model';
import { ConflictError } from '../../domain/shared/errors';
import type { Page } from '../../domain/shared/pagination';
import { agentKey } from './agent-repository';
import { isConditionFailure, transactionItemAtFailure, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { stopKey } from './emergency-stop-repository';
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
 *
 * Nothing moves into `executing` but `startExecution`, whose transaction checks the tenant's
 * emergency-stop item (emergency-stop-repository) and the agent's status (agent-repository).
 */
const actionsPartition = (tenantId: string) => `T#${tenantId}#ACTIONS`;
export const actionKey = (tenantId: string, actionId: string) => ({
  pk: actionsPartition(tenantId),
  sk: actionId,
});
type ActionPatch = Partial<Omit<ActionRecord, 'id' | 'tenantId' | 'createdAt'>> & {
  readonly status: ActionStatus;
  readonly updatedAt: string;
};
/** Transactions cancelled by a concurrent one on the same stop or agent item are tried again. */
const MAX_CONFLICT_RETRIES = 8;

function isTransactionConflict(error: unknown): boolean {
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict')
  );
}

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
    private readonly client: TableClient,
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

  /** The conditional update that moves an action from one of `from` to `patch.status`. */
  private transitionUpdate(
    tenantId: string,
    actionId: string,
    from: readonly ActionStatus[],
    patch: ActionPatch,
  ) {
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
    return {
      TableName: this.tableName,
      Key: actionKey(tenantId, actionId),
      UpdateExpression: `SET ${set.join(', ')}`,
      ConditionExpression: `attribute_exists(pk) AND #status IN (${fromList})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      // The item as the winner left it, in the same round trip: the loser reports its status.
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }

  async transition(
    tenantId: string,
    actionId: string,
    from: readonly ActionStatus[],
    patch: ActionPatch,
  ): Promise<{ record: ActionRecord } | { refusedFrom: ActionStatus | 'missing' }> {
    if (from.length === 0) {
      // `IN ()` is not an expression; allowing no status means refusing whatever is there.
      const current = await this.get(tenantId, actionId);
      return { refusedFrom: current?.status ?? 'missing' };
    }
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          ...this.transitionUpdate(tenantId, actionId, from, patch),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { record: toAction(Attributes ?? {}) };
    } catch (error) {
      return { refusedFrom: refusedStatus<ActionStatus>(error) };
    }
  }

  /**
   * One transaction: the action's write (a Put of a new executing action, or the move from
   * `from`), a ConditionCheck that the tenant's emergency-stop item is absent and one that the
   * agent is active. A stop written (or an agent paused) before it commits makes it fail, so
   * after the stop call returns nothing starts executing. Concurrent transactions on the same
   * stop and agent items can be cancelled with TransactionConflict: those are retried.
   */
  async startExecution(
    record: ActionRecord,
    from: 'new' | readonly ActionStatus[],
    at: string,
  ): Promise<ExecutionStart> {
    const { tenantId, id } = record;
    if (from !== 'new' && from.length === 0) {
      const current = await this.get(tenantId, id);
      return { refusedFrom: current?.status ?? 'missing' };
    }
    const started: ActionRecord = { ...record, status: 'executing', updatedAt: at };
    const write =
      from === 'new'
        ? {
            Put: {
              TableName: this.tableName,
              Item: {
                ...actionKey(tenantId, id),
                ...statusIndex(tenantId, id, 'executing'),
                entity: 'action',
                ...started,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          }
        : {
            Update: this.transitionUpdate(tenantId, id, from, { status: 'executing', updatedAt: at }),
          };
    const items = [
      write,
      {
        ConditionCheck: {
          TableName: this.tableName,
          Key: stopKey(tenantId),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        ConditionCheck: {
          TableName: this.tableName,
          Key: agentKey(tenantId, record.agentId),
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(deletedAt) AND #status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
        },
      },
    ];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        return { record: started };
      } catch (error) {
        const action = transactionItemAtFailure(error, 0);
        if (action.failed) {
          if (from === 'new') throw new ConflictError(`Action ${id} already exists`);
          return { refusedFrom: (action.item?.status as ActionStatus | undefined) ?? 'missing' };
        }
        if (transactionItemAtFailure(error, 1).failed) return { stopped: 'tenant' };
        const agent = transactionItemAtFailure(error, 2);
        if (agent.failed) {
          const status = agent.item && agent.item.deletedAt === undefined ? agent.item.status : 'deleted';
          return { stopped: 'agent', agentStatus: String(status ?? 'deleted') };
        }
        if (!isTransactionConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** attempt));
      }
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
