import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ResourceRecord, ResourceRepository } from '../../domain/actions/ports';
import { ConflictError, NotFoundError } from '../../domain/shared/errors';
import type { Page, PageRequest } from '../../domain/shared/pagination';
import { isConditionFailure, versionConflict, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';

/**
 * Tenant resource records (the rows that create/read/update/delete_resource act on).
 *   resource  pk = T#<tenantId>#RES#<collection>  sk = <resourceId>   (ULID: creation order)
 * One partition per collection, so listing a collection reads only it. Versioned: `data` is
 * replaced only under `version = :expected`.
 */
const collectionPartition = (tenantId: string, collection: string) => `T#${tenantId}#RES#${collection}`;
const resourceKey = (tenantId: string, collection: string, id: string) => ({
  pk: collectionPartition(tenantId, collection),
  sk: id,
});

function toResource(item: Record<string, unknown>): ResourceRecord {
  const { id, tenantId, collection, version, ...rest } = withoutKeys<ResourceRecord>(item);
  return { id, tenantId, collection, version, ...rest };
}

export class DynamoResourceRepository implements ResourceRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async create(record: ResourceRecord): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...resourceKey(record.tenantId, record.collection, record.id),
            entity: 'resource',
            ...record,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error))
        throw new ConflictError(`Resource ${record.collection}/${record.id} already exists`);
      throw error;
    }
  }

  async get(tenantId: string, collection: string, id: string): Promise<ResourceRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: resourceKey(tenantId, collection, id),
        ConsistentRead: true,
      }),
    );
    return Item ? toResource(Item) : undefined;
  }

  async update(
    tenantId: string,
    collection: string,
    id: string,
    data: Record<string, unknown>,
    expectedVersion: number,
    at: string,
  ): Promise<ResourceRecord> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: resourceKey(tenantId, collection, id),
          UpdateExpression: 'SET #data = :data, updatedAt = :at, #version = #version + :one',
          ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
          ExpressionAttributeNames: { '#data': 'data', '#version': 'version' },
          ExpressionAttributeValues: { ':data': data, ':at': at, ':one': 1, ':expected': expectedVersion },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toResource(Attributes ?? {});
    } catch (error) {
      // Gone: 404; another version: 409 with the version now stored.
      if (isConditionFailure(error)) throw versionConflict('Resource', `${collection}/${id}`, error);
      throw error;
    }
  }

  async delete(tenantId: string, collection: string, id: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: resourceKey(tenantId, collection, id),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('Resource', `${collection}/${id}`);
      throw error;
    }
  }

  /** In creation order (oldest first), a page at a time. */
  list(tenantId: string, collection: string, page: PageRequest): Promise<Page<ResourceRecord>> {
    return queryPage<ResourceRecord>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': collectionPartition(tenantId, collection) },
      },
      scope: JSON.stringify(['resources', tenantId, collection]),
      limit: page.limit,
      ...(page.cursor ? { cursor: page.cursor } : {}),
      map: toResource,
    });
  }
}
