import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../domain/shared/errors';
import type { Page, PageRequest } from '../../domain/shared/pagination';
import type { TenantListFilter, TenantRepository } from '../../domain/tenants/ports';
import type { Tenant, User } from '../../domain/tenants/schemas';
import { isConditionFailure, versionConflict, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { GSI1 } from './table-definition';
import { tenantKey } from './tenant-key';
import { userItem, userKey } from './user-repository';

/**
 * Tenant entity.
 *   tenant      pk = T#<tenantId>   sk = TENANT
 *               ownerCount = the tenant's active owners (kept by the user repository, in the same
 *               transaction as each owner change; never leaves the adapter)
 *               gsi1pk = TENANTS  gsi1sk = <tenantId>   (platform-level listing of every tenant, read by
 *                                                       the monthly billing run only)
 *   slug claim  pk = SLUG#<slug>    sk = SLUG      (global: makes slugs unique; platform-level, written
 *                                                  apart from the tenant's items, in no tenant's scope)
 */
export { tenantKey };

/** The GSI partition that lists every tenant; tenant ids are ULIDs, so it is in creation order. */
const TENANT_LIST_PARTITION = 'TENANTS';
const tenantListKey = (tenantId: string) => ({ gsi1pk: TENANT_LIST_PARTITION, gsi1sk: tenantId });
const slugKey = (slug: string) => ({ pk: `SLUG#${slug}`, sk: 'SLUG' });

function tenantOf(item: Record<string, unknown>): Tenant {
  const { ownerCount: _ownerCount, ...tenant } = withoutKeys<Tenant & { ownerCount?: number }>(item);
  return tenant;
}

/** A tenant's item: the tenant, keyed by its id and listed on the tenant index (access pattern 18). */
export const tenantItem = (tenant: Tenant) => ({
  ...tenantKey(tenant.id),
  ...tenantListKey(tenant.id),
  entity: 'tenant',
  ...tenant,
});

export class DynamoTenantRepository implements TenantRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  /** Platform-level (no tenant in the key): makes the slug the new tenant's, or 409. */
  async claimSlug(slug: string, tenantId: string): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...slugKey(slug), entity: 'slug', tenantId },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`tenant.slug: ${slug} is already taken`, { field: 'body.tenant.slug' });
      }
      throw error;
    }
  }

  /** Platform-level: gives the slug back, if it is still this tenant's. */
  async releaseSlug(slug: string, tenantId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: slugKey(slug),
          ConditionExpression: 'tenantId = :t',
          ExpressionAttributeValues: { ':t': tenantId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** The tenant's own items, in its scope: the tenant and its first owner, atomically. */
  async createWithOwner(tenant: Tenant, owner: User): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: { ...tenantItem(tenant), ownerCount: 1 },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: userItem(owner),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
  }

  /** Undoes `createWithOwner` (the slug is released separately, at platform level). */
  async deleteRegistration(tenant: Tenant, ownerId: string): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.tableName, Key: tenantKey(tenant.id) } },
          { Delete: { TableName: this.tableName, Key: userKey(tenant.id, ownerId) } },
        ],
      }),
    );
  }

  async get(tenantId: string): Promise<Tenant | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: tenantKey(tenantId) }),
    );
    return Item ? tenantOf(Item) : undefined;
  }

  async listTenantIds(page: PageRequest, filter: TenantListFilter = {}): Promise<Page<string>> {
    const { status } = filter;
    return queryPage({
      client: this.client,
      input: {
        TableName: this.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :list',
        ...(status
          ? {
              FilterExpression: '#status = :status',
              ExpressionAttributeNames: { '#id': 'id', '#status': 'status' },
              ExpressionAttributeValues: { ':list': TENANT_LIST_PARTITION, ':status': status },
            }
          : {
              ExpressionAttributeNames: { '#id': 'id' },
              ExpressionAttributeValues: { ':list': TENANT_LIST_PARTITION },
            }),
        ProjectionExpression: '#id',
      },
      // The cursor is bound to the listing it came from, status filter included.
      scope: `${TENANT_LIST_PARTITION}#${status ?? 'all'}`,
      limit: page.limit,
      ...(page.cursor ? { cursor: page.cursor } : {}),
      map: (item) => String(item.id),
    });
  }

  async rename(tenantId: string, name: string, expectedVersion: number): Promise<Tenant> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: 'SET #name = :name, updatedAt = :now, version = version + :one',
          ConditionExpression: 'attribute_exists(pk) AND version = :expected',
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: {
            ':name': name,
            ':now': new Date().toISOString(),
            ':one': 1,
            ':expected': expectedVersion,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return tenantOf(Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) throw versionConflict('Tenant', tenantId, error);
      throw error;
    }
  }
}
