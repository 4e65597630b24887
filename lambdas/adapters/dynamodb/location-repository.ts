import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../domain/shared/errors';
import type { PageRequest } from '../../domain/shared/pagination';
import type { LocationRepository } from '../../domain/tenants/ports';
import type { Location, LocationPatch } from '../../domain/tenants/schemas';
import { isConditionFailure, versionConflict, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { versionedUpdate } from './update-expression';

/**
 * Location entity.
 *   location  pk = T#<tenantId>  sk = LOC#<locationId>
 */
export const locationKey = (tenantId: string, locationId: string) => ({
  pk: `T#${tenantId}`,
  sk: `LOC#${locationId}`,
});

export class DynamoLocationRepository implements LocationRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async create(location: Location): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...locationKey(location.tenantId, location.id), entity: 'location', ...location },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(tenantId: string, locationId: string): Promise<Location | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: locationKey(tenantId, locationId) }),
    );
    return Item ? withoutKeys<Location>(Item) : undefined;
  }

  list(tenantId: string, page: PageRequest) {
    return queryPage<Location>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `T#${tenantId}`, ':prefix': 'LOC#' },
      },
      scope: `locations:${tenantId}`,
      limit: page.limit,
      ...(page.cursor ? { cursor: page.cursor } : {}),
      map: (item) => withoutKeys<Location>(item),
    });
  }

  async update(
    tenantId: string,
    locationId: string,
    patch: LocationPatch,
    expectedVersion: number,
  ): Promise<Location> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: locationKey(tenantId, locationId),
          ...versionedUpdate(patch, expectedVersion),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return withoutKeys<Location>(Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) throw versionConflict('Location', locationId, error);
      throw error;
    }
  }

  async delete(tenantId: string, locationId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: locationKey(tenantId, locationId),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('Location', locationId);
      throw error;
    }
  }
}
