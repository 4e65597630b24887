import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AgentCounters, AgentRepository } from '../../domain/agents/ports';
import {
  AGENT_CONFIG_FIELDS,
  type Agent,
  type AgentListQuery,
  type AgentStatus,
  type AgentVersion,
} from '../../domain/agents/schemas';
import { ConflictError, NotFoundError } from '../../domain/shared/errors';
import type { PageRequest } from '../../domain/shared/pagination';
import { isConditionFailure, itemAtFailure, transactionItemAtFailure, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { GSI1 } from './table-definition';
import { versionedUpdate } from './update-expression';

/**
 * Agent entity and its satellites.
 *   agent     pk = T#<tenantId>                 sk = AGENT#<agentId>        (ULID: creation order)
 *             gsi1pk = T#<tenantId>#AGENT_NAME  gsi1sk = <lower-case name>#<agentId>  (name order, prefix search)
 *   version   pk = T#<tenantId>#AGENT#<agentId>  sk = V#<version, 10 digits>
 *   counters  pk = T#<tenantId>#AGENT#<agentId>  sk = STATS   (ADDed to by the runtime; absent = all zero)
 * A soft-deleted agent keeps its item with `deletedAt` and leaves the name index.
 */
export const agentKey = (tenantId: string, agentId: string) => ({
  pk: `T#${tenantId}`,
  sk: `AGENT#${agentId}`,
});
export const agentPartition = (tenantId: string, agentId: string) => `T#${tenantId}#AGENT#${agentId}`;
const versionKey = (tenantId: string, agentId: string, version: number) => ({
  pk: agentPartition(tenantId, agentId),
  sk: `V#${String(version).padStart(10, '0')}`,
});
export const agentCountersKey = (tenantId: string, agentId: string) => ({
  pk: agentPartition(tenantId, agentId),
  sk: 'STATS',
});
const nameIndexKey = (agent: Pick<Agent, 'tenantId' | 'id' | 'name'>) => ({
  gsi1pk: `T#${agent.tenantId}#AGENT_NAME`,
  gsi1sk: `${agent.name.toLowerCase()}#${agent.id}`,
});

function toAgent(item: Record<string, unknown>): Agent {
  const {
    nameLower: _n,
    deletedAt: _d,
    deletedBy: _b,
    ...rest
  } = withoutKeys<Agent & Record<string, unknown>>(item);
  // DynamoDB returns attributes in no particular order; lead with the ones people look for.
  const { id, tenantId, name, status, version, ...details } = rest;
  return { id, tenantId, name, status, version, ...details } as Agent;
}

function toVersion(item: Record<string, unknown>): AgentVersion {
  return withoutKeys<AgentVersion>(item);
}

export class DynamoAgentRepository implements AgentRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  private versionPut(tenantId: string, version: AgentVersion) {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...versionKey(tenantId, version.agentId, version.version),
          entity: 'agentVersion',
          ...version,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  async create(agent: Agent, firstVersion: AgentVersion): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...agentKey(agent.tenantId, agent.id),
                ...nameIndexKey(agent),
                entity: 'agent',
                nameLower: agent.name.toLowerCase(),
                ...agent,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          this.versionPut(agent.tenantId, firstVersion),
        ],
      }),
    );
  }

  async get(tenantId: string, agentId: string): Promise<Agent | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: agentKey(tenantId, agentId) }),
    );
    return Item && Item.deletedAt === undefined ? toAgent(Item) : undefined;
  }

  list(tenantId: string, query: AgentListQuery) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const filters = ['attribute_not_exists(deletedAt)'];
    if (query.status) {
      names['#status'] = 'status';
      values[':status'] = query.status;
      filters.push('#status = :status');
    }
    if (query.businessType) {
      values[':businessType'] = query.businessType;
      filters.push('businessType = :businessType');
    }
    const prefix = query.namePrefix?.toLowerCase();
    const byName = query.sort === 'name';
    if (prefix !== undefined && !byName) {
      values[':prefix'] = prefix;
      filters.push('begins_with(nameLower, :prefix)');
    }
    const keyCondition = byName
      ? {
          IndexName: GSI1,
          KeyConditionExpression: `gsi1pk = :pk${prefix === undefined ? '' : ' AND begins_with(gsi1sk, :prefix)'}`,
        }
      : { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :agentPrefix)' };
    if (byName) {
      values[':pk'] = `T#${tenantId}#AGENT_NAME`;
      if (prefix !== undefined) values[':prefix'] = prefix;
    } else {
      values[':pk'] = `T#${tenantId}`;
      values[':agentPrefix'] = 'AGENT#';
    }
    return queryPage<Agent>({
      client: this.client,
      input: {
        TableName: this.tableName,
        ...keyCondition,
        FilterExpression: filters.join(' AND '),
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: query.order === 'asc',
      },
      // The cursor is only valid for the same tenant, ordering and filters it was issued for.
      scope: JSON.stringify([
        'agents',
        tenantId,
        query.sort,
        query.order,
        query.status,
        query.businessType,
        prefix,
      ]),
      limit: query.limit,
      ...(query.cursor ? { cursor: query.cursor } : {}),
      map: toAgent,
    });
  }

  async saveConfig(next: Agent, version: AgentVersion, expectedVersion: number): Promise<void> {
    await this.saveConfigWith(next, version, expectedVersion, []);
  }

  /**
   * `saveConfig` with more items written in the same transaction (after the agent and its
   * version, so a failure of those two still reads as a conflict): e.g. a channel setting.
   */
  async saveConfigWith(
    next: Agent,
    version: AgentVersion,
    expectedVersion: number,
    also: NonNullable<TransactWriteCommandInput['TransactItems']>,
  ): Promise<void> {
    const config: Record<string, unknown> = {};
    for (const field of AGENT_CONFIG_FIELDS) {
      config[field] = (next as Record<string, unknown>)[field] ?? null;
    }
    const update = versionedUpdate(
      config,
      expectedVersion,
      { updatedBy: next.updatedBy, nameLower: next.name.toLowerCase(), ...nameIndexKey(next) },
      next.updatedAt,
    );
    const input: TransactWriteCommandInput = {
      TransactItems: [
        {
          Update: {
            TableName: this.tableName,
            Key: agentKey(next.tenantId, next.id),
            ...update,
            ConditionExpression: `${update.ConditionExpression} AND attribute_not_exists(deletedAt)`,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        this.versionPut(next.tenantId, version),
        ...also,
      ],
    };
    try {
      await this.client.send(new TransactWriteCommand(input));
    } catch (error) {
      const agentFailure = transactionItemAtFailure(error, 0);
      if (agentFailure.failed) {
        const item = agentFailure.item;
        if (!item || item.deletedAt !== undefined) throw new NotFoundError('Agent', next.id);
        throw new ConflictError(
          `Agent ${next.id} was changed by someone else (now version ${String(item.version)}); re-read it and retry`,
          { currentVersion: item.version },
        );
      }
      // Two writers from the same base version collide on the version slot or on the item itself.
      const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (
        transactionItemAtFailure(error, 1).failed ||
        reasons.some((r) => r.Code === 'TransactionConflict')
      ) {
        throw new ConflictError(`Agent ${next.id} was changed concurrently; re-read it and retry`);
      }
      throw error;
    }
  }

  async transition(
    tenantId: string,
    agentId: string,
    from: readonly AgentStatus[],
    to: AgentStatus,
    actorId: string,
    reason?: string,
  ) {
    const fromValues = Object.fromEntries(from.map((status, i) => [`:from${i}`, status]));
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: agentKey(tenantId, agentId),
          UpdateExpression:
            reason === undefined
              ? 'SET #status = :to, updatedAt = :now, updatedBy = :actor REMOVE statusReason'
              : 'SET #status = :to, updatedAt = :now, updatedBy = :actor, statusReason = :reason',
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(deletedAt) AND #status IN (${Object.keys(fromValues).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':to': to,
            ':now': new Date().toISOString(),
            ':actor': actorId,
            ...(reason === undefined ? {} : { ':reason': reason.slice(0, 1000) }),
            ...fromValues,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { agent: toAgent(Attributes ?? {}) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = itemAtFailure(error);
      if (!item || item.deletedAt !== undefined) throw new NotFoundError('Agent', agentId);
      return { refusedFrom: item.status as AgentStatus };
    }
  }

  async isDeleted(tenantId: string, agentId: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: agentKey(tenantId, agentId),
        ProjectionExpression: 'deletedAt',
      }),
    );
    return Item?.deletedAt !== undefined;
  }

  async softDelete(tenantId: string, agentId: string, actorId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: agentKey(tenantId, agentId),
          UpdateExpression: 'SET deletedAt = :now, deletedBy = :actor REMOVE gsi1pk, gsi1sk',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deletedAt)',
          ExpressionAttributeValues: { ':now': new Date().toISOString(), ':actor': actorId },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('Agent', agentId);
      throw error;
    }
  }

  listVersions(tenantId: string, agentId: string, page: PageRequest) {
    return queryPage<AgentVersion>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': agentPartition(tenantId, agentId), ':prefix': 'V#' },
        ScanIndexForward: false,
      },
      scope: `versions:${tenantId}:${agentId}`,
      limit: page.limit,
      ...(page.cursor ? { cursor: page.cursor } : {}),
      map: toVersion,
    });
  }

  async getVersion(tenantId: string, agentId: string, version: number): Promise<AgentVersion | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: versionKey(tenantId, agentId, version) }),
    );
    return Item ? toVersion(Item) : undefined;
  }

  async getCounters(tenantId: string, agentId: string): Promise<AgentCounters> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: agentCountersKey(tenantId, agentId) }),
    );
    const n = (field: keyof AgentCounters) =>
      typeof Item?.[field] === 'number' ? (Item[field] as number) : 0;
    return {
      executions: n('executions'),
      succeeded: n('succeeded'),
      failed: n('failed'),
      tokens: n('tokens'),
      costUsd: n('costUsd'),
      latencyMs: n('latencyMs'),
      feedbackUp: n('feedbackUp'),
      feedbackDown: n('feedbackDown'),
    };
  }
}
