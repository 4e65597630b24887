import {
  BatchWriteCommand,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  CompletedTurn,
  Continuation,
  Execution,
  ExecutionRepository,
  ExecutionStatus,
  IdempotencyClaim,
  ToolRun,
} from '../../domain/runtime/executions';
import { ConflictError } from '../../domain/shared/errors';
import { agentCountersKey } from './agent-repository';
import { isConditionFailure, transactionItemAtFailure, withoutKeys } from './conditions';
import { conversationActivityIndex, conversationKey, messageKey } from './conversation-repository';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { GSI1 } from './table-definition';

/**
 * Execution entity, idempotency keys and tool runs.
 *   execution    pk = T#<tenantId>#EXEC#<executionId>  sk = EXEC
 *                gsi1pk = T#<tenantId>#AGENT#<agentId>#EXECS  gsi1sk = <executionId>  (ULID: newest last)
 *   idempotency  pk = T#<tenantId>#AGENT#<agentId>#IDEMP  sk = <key>  → executionId  (expires after a day)
 *   tool run     pk = T#<tenantId>#TOOLRUNS  sk = <toolRunId>  (ULID: time order)
 *   continuation pk = T#<tenantId>#EXEC#<executionId>  sk = CONTINUATION  (a deferred turn's
 *                checkpoint as JSON text: model messages are free-form JSON; expires after a day)
 */
const executionKey = (tenantId: string, executionId: string) => ({
  pk: `T#${tenantId}#EXEC#${executionId}`,
  sk: 'EXEC',
});
const agentExecutionsIndex = (execution: Pick<Execution, 'tenantId' | 'agentId' | 'id'>) => ({
  gsi1pk: `T#${execution.tenantId}#AGENT#${execution.agentId}#EXECS`,
  gsi1sk: execution.id,
});
const idempotencyKey = (tenantId: string, agentId: string, key: string) => ({
  pk: `T#${tenantId}#AGENT#${agentId}#IDEMP`,
  sk: key,
});
const toolRunKey = (tenantId: string, toolRunId: string) => ({ pk: `T#${tenantId}#TOOLRUNS`, sk: toolRunId });
const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
const CONTINUATION_TTL_SECONDS = 24 * 3600;
const continuationKey = (tenantId: string, executionId: string) => ({
  pk: `T#${tenantId}#EXEC#${executionId}`,
  sk: 'CONTINUATION',
});
/** Tool runs written inside a turn's completing transaction (the rest just before it). */
const INLINE_TOOL_RUNS = 50;

const toExecution = (item: Record<string, unknown>) => withoutKeys<Execution>(item);
const toToolRun = (item: Record<string, unknown>) => withoutKeys<ToolRun>(item);

export class DynamoExecutionRepository implements ExecutionRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  private executionItem(execution: Execution) {
    return {
      ...executionKey(execution.tenantId, execution.id),
      ...agentExecutionsIndex(execution),
      entity: 'execution',
      ...execution,
    };
  }

  private toolRunPuts(runs: readonly ToolRun[]) {
    return runs.map((run) => ({
      Put: {
        TableName: this.tableName,
        Item: { ...toolRunKey(run.tenantId, run.id), entity: 'toolRun', ...run },
      },
    }));
  }

  /** The final write of a run: only from RUNNING, so a turn is recorded exactly once. */
  private finalPut(execution: Execution) {
    return {
      Put: {
        TableName: this.tableName,
        Item: this.executionItem(execution),
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':running': 'RUNNING' },
      },
    };
  }

  private countersUpdate(execution: Execution) {
    const outcome = execution.status === 'COMPLETED' ? 'succeeded' : 'failed';
    return {
      Update: {
        TableName: this.tableName,
        Key: agentCountersKey(execution.tenantId, execution.agentId),
        UpdateExpression:
          'ADD executions :one, #outcome :one, tokens :tokens, costUsd :cost, latencyMs :latency',
        ExpressionAttributeNames: { '#outcome': outcome },
        ExpressionAttributeValues: {
          ':one': 1,
          ':tokens': execution.usage.inputTokens + execution.usage.outputTokens,
          ':cost': execution.costUsd,
          ':latency': execution.latencyMs ?? 0,
        },
      },
    };
  }

  async create(
    execution: Execution,
    idempotency?: IdempotencyClaim,
  ): Promise<{ execution: Execution; created: boolean; fingerprint?: string }> {
    const put = {
      TableName: this.tableName,
      Item: this.executionItem(execution),
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    if (!idempotency) {
      await this.client.send(new TransactWriteCommand({ TransactItems: [{ Put: put }] }));
      return { execution, created: true };
    }
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...idempotencyKey(execution.tenantId, execution.agentId, idempotency.key),
                  entity: 'idempotencyKey',
                  executionId: execution.id,
                  fingerprint: idempotency.fingerprint,
                  expiresAt: Math.floor(Date.now() / 1000) + IDEMPOTENCY_TTL_SECONDS,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: put },
          ],
        }),
      );
      return { execution, created: true };
    } catch (error) {
      const claim = transactionItemAtFailure(error, 0);
      if (!claim.failed) throw error;
      const first = await this.findByIdempotencyKey(execution.tenantId, execution.agentId, idempotency.key);
      if (!first)
        throw new ConflictError('idempotency-key: a request with this key is being recorded; retry shortly');
      return { ...first, created: false };
    }
  }

  async findByIdempotencyKey(
    tenantId: string,
    agentId: string,
    key: string,
  ): Promise<{ execution: Execution; fingerprint?: string } | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: idempotencyKey(tenantId, agentId, key),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    // Consistent: a retry must see the first request's final status (and so its outcome).
    const execution = await this.get(tenantId, String(Item.executionId), true);
    if (!execution) return undefined;
    return { execution, ...(typeof Item.fingerprint === 'string' ? { fingerprint: Item.fingerprint } : {}) };
  }

  async get(tenantId: string, executionId: string, consistent = false): Promise<Execution | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: executionKey(tenantId, executionId),
        ...(consistent ? { ConsistentRead: true } : {}),
      }),
    );
    return Item ? toExecution(Item) : undefined;
  }

  listByAgent(
    tenantId: string,
    agentId: string,
    filter: { status?: ExecutionStatus; limit: number; cursor?: string },
  ) {
    return queryPage<Execution>({
      client: this.client,
      input: {
        TableName: this.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :pk',
        ...(filter.status
          ? { FilterExpression: '#status = :status', ExpressionAttributeNames: { '#status': 'status' } }
          : {}),
        ExpressionAttributeValues: {
          ':pk': `T#${tenantId}#AGENT#${agentId}#EXECS`,
          ...(filter.status ? { ':status': filter.status } : {}),
        },
        ScanIndexForward: false,
      },
      scope: JSON.stringify(['executions', tenantId, agentId, filter.status]),
      limit: filter.limit,
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
      map: toExecution,
    });
  }

  async start(tenantId: string, executionId: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: executionKey(tenantId, executionId),
          UpdateExpression:
            'SET #status = :running, updatedAt = :at, statusHistory = list_append(statusHistory, :entry)',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':running': 'RUNNING',
            ':pending': 'PENDING',
            ':at': at,
            ':entry': [{ status: 'RUNNING', at }],
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * A transaction holds at most 100 items, and a turn in which the model proposed many actions
   * can record more tool runs than that. The first `INLINE_TOOL_RUNS` go in the completing
   * transaction; the rest are written just before it (plain puts of fresh ids: a retry rewrites
   * the same items), so a committed turn never lacks its runs.
   */
  private async inlineToolRuns(runs: readonly ToolRun[]) {
    const overflow = runs.slice(INLINE_TOOL_RUNS);
    for (let start = 0; start < overflow.length; start += 25) {
      let requests: { PutRequest: { Item: Record<string, unknown> } }[] = overflow
        .slice(start, start + 25)
        .map((run) => ({
          PutRequest: { Item: { ...toolRunKey(run.tenantId, run.id), entity: 'toolRun', ...run } },
        }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt === 5)
          throw new Error('Could not write the tool runs of a turn: DynamoDB kept them unprocessed');
        const result = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
    return this.toolRunPuts(runs.slice(0, INLINE_TOOL_RUNS));
  }

  async complete(turn: CompletedTurn): Promise<void> {
    const { execution } = turn;
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      this.finalPut(execution),
      this.countersUpdate(execution),
      ...(await this.inlineToolRuns(turn.toolRuns)),
    ];
    if (turn.messages && turn.conversation) {
      const conversation = turn.conversation;
      for (const message of turn.messages) {
        items.push({
          Put: {
            TableName: this.tableName,
            Item: { ...messageKey(execution.tenantId, message), entity: 'message', ...message },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      const at = execution.updatedAt;
      items.push({
        Update: {
          TableName: this.tableName,
          Key: conversationKey(execution.tenantId, conversation.id),
          // A turn that handed over to a person (escalate) put the conversation in handoff itself: it stays so.
          UpdateExpression: `SET ${turn.handedOver ? '' : '#status = :active, '}updatedAt = :at, lastMessageAt = :at, gsi1sk = :activity${
            turn.summary ? ', summary = :summary, summarizedThrough = :through' : ''
          } ADD messageCount :count`,
          ...(turn.handedOver
            ? { ConditionExpression: 'attribute_exists(pk)' }
            : {
                ConditionExpression: 'attribute_exists(pk) AND #status <> :paused AND #status <> :handoff',
                ExpressionAttributeNames: { '#status': 'status' },
              }),
          ExpressionAttributeValues: {
            ...(turn.handedOver ? {} : { ':active': 'active', ':paused': 'paused', ':handoff': 'handoff' }),
            ':at': at,
            ':activity': conversationActivityIndex(execution.tenantId, conversation.id, at).gsi1sk,
            ':count': turn.messages.length,
            ...(turn.summary ? { ':summary': turn.summary.text, ':through': turn.summary.through } : {}),
          },
        },
      });
    }
    await this.client.send(new TransactWriteCommand({ TransactItems: items }));
  }

  async defer(execution: Execution, continuation: Continuation, toolRuns: readonly ToolRun[]): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          this.finalPut(execution),
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...continuationKey(execution.tenantId, execution.id),
                entity: 'continuation',
                continuation: JSON.stringify(continuation),
                expiresAt: Math.floor(Date.now() / 1000) + CONTINUATION_TTL_SECONDS,
              },
            },
          },
          ...(await this.inlineToolRuns(toolRuns)),
        ],
      }),
    );
  }

  async continuation(tenantId: string, executionId: string): Promise<Continuation | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: continuationKey(tenantId, executionId),
        ConsistentRead: true,
      }),
    );
    return typeof Item?.continuation === 'string'
      ? (JSON.parse(Item.continuation) as Continuation)
      : undefined;
  }

  async fail(execution: Execution, toolRuns: readonly ToolRun[]): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          this.finalPut(execution),
          this.countersUpdate(execution),
          ...(await this.inlineToolRuns(toolRuns)),
        ],
      }),
    );
  }

  listToolRuns(
    tenantId: string,
    filter: { agentId?: string; tool?: string; limit: number; cursor?: string },
  ) {
    const filters: string[] = [];
    const values: Record<string, unknown> = { ':pk': `T#${tenantId}#TOOLRUNS` };
    const names: Record<string, string> = {};
    if (filter.agentId) {
      filters.push('agentId = :agentId');
      values[':agentId'] = filter.agentId;
    }
    if (filter.tool) {
      filters.push('#name = :tool');
      names['#name'] = 'name';
      values[':tool'] = filter.tool;
    }
    return queryPage<ToolRun>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      scope: JSON.stringify(['toolRuns', tenantId, filter.agentId, filter.tool]),
      limit: filter.limit,
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
      map: toToolRun,
    });
  }
}
