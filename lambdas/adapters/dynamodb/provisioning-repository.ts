import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ProvisioningListFilter, ProvisioningRecord } from '../../domain/provisioning/model';
import type { AgentContextStore, ProvisioningRepository } from '../../domain/provisioning/ports';
import type { Page } from '../../domain/shared/pagination';
import { agentPartition } from './agent-repository';
import { isConditionFailure, transactionItemAtFailure, versionConflict, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { GSI1 } from './table-definition';

/**
 * Provisioning records (domain/provisioning/model.ts): the whole record — plan, steps, what each
 * made — is one item, written by one workflow step at a time, conditionally on its version.
 *   record           pk = T#<tenantId>  sk = PROVISIONING#<provisioningId>  (the tenant's, newest first: GET /v1/provisioning)
 *                    gsi1pk = T#<tenantId>#AGENT_PROVISIONING#<agentId>  gsi1sk = <provisioningId>  (the agent's, oldest first: deprovisioning)
 *   idempotency key  pk = T#<tenantId>  sk = PROVISIONING_KEY#<sha256 of the key>  → provisioningId (24 h)
 *   agent context    pk = T#<tenantId>#AGENT#<agentId>  sk = CONTEXT
 */
const recordKey = (tenantId: string, id: string) => ({ pk: `T#${tenantId}`, sk: `PROVISIONING#${id}` });
const keyItemKey = (tenantId: string, key: string) => ({
  pk: `T#${tenantId}`,
  sk: `PROVISIONING_KEY#${createHash('sha256').update(key).digest('base64url')}`,
});
const agentIndex = (tenantId: string, agentId: string) => `T#${tenantId}#AGENT_PROVISIONING#${agentId}`;
const KEY_TTL_SECONDS = 24 * 3600;

export class DynamoProvisioningRepository implements ProvisioningRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  private item(record: ProvisioningRecord) {
    return {
      ...recordKey(record.tenantId, record.id),
      gsi1pk: agentIndex(record.tenantId, record.agentId),
      gsi1sk: record.id,
      entity: 'provisioning',
      ...record,
    };
  }

  async create(record: ProvisioningRecord, idempotencyKey?: string) {
    if (!idempotencyKey) {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(record),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true as const };
    }
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...keyItemKey(record.tenantId, idempotencyKey),
                  entity: 'provisioningKey',
                  provisioningId: record.id,
                  expiresAt: Math.floor(Date.now() / 1000) + KEY_TTL_SECONDS,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: this.item(record),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return { created: true as const };
    } catch (error) {
      const held = transactionItemAtFailure(error, 0);
      if (!held.failed) throw error;
      const id = held.item?.provisioningId;
      const existing = typeof id === 'string' ? await this.get(record.tenantId, id) : undefined;
      if (!existing) throw error;
      return { existing };
    }
  }

  async get(tenantId: string, provisioningId: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: recordKey(tenantId, provisioningId),
        ConsistentRead: true,
      }),
    );
    return Item ? withoutKeys<ProvisioningRecord>(Item) : undefined;
  }

  async save(next: ProvisioningRecord) {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(next),
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': next.version - 1 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw versionConflict('Provisioning', next.id, error);
      throw error;
    }
  }

  /**
   * P4/P5: a key-condition Query, newest first (ids are ULIDs): the tenant's records under
   * `PROVISIONING#` in its own partition, or one agent's through gsi1; a status is a filter (a
   * tenant's provisionings are few: one per agent and channel added), bounded by `queryPage`.
   */
  list(tenantId: string, filter: ProvisioningListFilter): Promise<Page<ProvisioningRecord>> {
    const byStatus = filter.status
      ? {
          FilterExpression: '#status = :status',
          ExpressionAttributeNames: { '#status': 'status' },
        }
      : {};
    const input = filter.agentId
      ? {
          TableName: this.tableName,
          IndexName: GSI1,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: {
            ':pk': agentIndex(tenantId, filter.agentId),
            ...(filter.status ? { ':status': filter.status } : {}),
          },
          ScanIndexForward: false,
          ...byStatus,
        }
      : {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': `T#${tenantId}`,
            ':prefix': 'PROVISIONING#',
            ...(filter.status ? { ':status': filter.status } : {}),
          },
          ScanIndexForward: false,
          ...byStatus,
        };
    return queryPage<ProvisioningRecord>({
      client: this.client,
      input,
      // The cursor is only valid for the same tenant and filters it was issued for.
      scope: JSON.stringify(['provisioning', tenantId, filter.agentId ?? null, filter.status ?? null]),
      limit: filter.limit,
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
      map: (item) => withoutKeys<ProvisioningRecord>(item),
    });
  }

  async listForAgent(tenantId: string, agentId: string) {
    const records: ProvisioningRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: GSI1,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': agentIndex(tenantId, agentId) },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        // The index is eventually consistent: the record itself is read for its latest steps.
        const record = await this.get(tenantId, String(item.id));
        if (record) records.push(record);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return records;
  }
}

export class DynamoAgentContextStore implements AgentContextStore {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async put(
    tenantId: string,
    agentId: string,
    context: { channels: Readonly<Record<string, string>>; initialisedAt: string },
  ) {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: agentPartition(tenantId, agentId), sk: 'CONTEXT', entity: 'agentContext', ...context },
      }),
    );
  }

  async delete(tenantId: string, agentId: string) {
    await this.client.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: agentPartition(tenantId, agentId), sk: 'CONTEXT' },
      }),
    );
  }
}
