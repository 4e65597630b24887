import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { PageRequest } from '../../domain/shared/pagination';
import type { UserRepository } from '../../domain/tenants/ports';
import type { User, UserPatch } from '../../domain/tenants/schemas';
import { isConditionFailure, versionConflict, withoutKeys } from './conditions';
import { queryPage } from './pagination';
import { versionedUpdate } from './update-expression';

/**
 * User entity (profile, role, grants; credentials live with the identity provider, never here).
 *   user  pk = T#<tenantId>  sk = USER#<userId>
 */
export const userKey = (tenantId: string, userId: string) => ({ pk: `T#${tenantId}`, sk: `USER#${userId}` });
export const userItem = (user: User) => ({ ...userKey(user.tenantId, user.id), entity: 'user', ...user });

export class DynamoUserRepository implements UserRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(user: User): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: userItem(user),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(tenantId: string, userId: string): Promise<User | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: userKey(tenantId, userId) }),
    );
    return Item ? withoutKeys<User>(Item) : undefined;
  }

  list(tenantId: string, page: PageRequest) {
    return queryPage<User>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `T#${tenantId}`, ':prefix': 'USER#' },
      },
      scope: `users:${tenantId}`,
      limit: page.limit,
      ...(page.cursor ? { cursor: page.cursor } : {}),
      map: (item) => withoutKeys<User>(item),
    });
  }

  async countOwners(tenantId: string): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          FilterExpression: '#role = :owner',
          ExpressionAttributeNames: { '#role': 'role' },
          ExpressionAttributeValues: { ':pk': `T#${tenantId}`, ':prefix': 'USER#', ':owner': 'owner' },
          Select: 'COUNT',
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      count += result.Count ?? 0;
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  async update(tenantId: string, userId: string, patch: UserPatch, expectedVersion: number): Promise<User> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: userKey(tenantId, userId),
          ...versionedUpdate(patch, expectedVersion),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return withoutKeys<User>(Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) throw versionConflict('User', userId, error);
      throw error;
    }
  }

  async delete(tenantId: string, userId: string, expectedVersion: number): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: userKey(tenantId, userId),
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw versionConflict('User', userId, error);
      throw error;
    }
  }
}
