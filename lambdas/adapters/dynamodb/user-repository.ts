import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../domain/shared/errors';
import type { PageRequest } from '../../domain/shared/pagination';
import type { OwnerDelta, UserRepository } from '../../domain/tenants/ports';
import type { User, UserPatch } from '../../domain/tenants/schemas';
import { isConditionFailure, transactionItemAtFailure, versionConflict, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { tenantKey } from './tenant-key';
import { versionedUpdate } from './update-expression';

/**
 * User entity (profile, role, status, grants; credentials live with the identity provider, never here).
 *   user  pk = T#<tenantId>  sk = USER#<userId>
 * The tenant item's `ownerCount` (tenant-repository.ts) is kept here: every write that changes
 * the number of active owners moves it in the same transaction, on the condition that it stays
 * at least 1. Tenants registered before the counter existed get it on their first owner change,
 * counted from the user records (no owner change can commit while it is missing).
 */
export const userKey = (tenantId: string, userId: string) => ({ pk: `T#${tenantId}`, sk: `USER#${userId}` });
export const userItem = (user: User) => ({ ...userKey(user.tenantId, user.id), entity: 'user', ...user });

/** Records written before users had a status are active. */
function userOf(item: Record<string, unknown>): User {
  const user = withoutKeys<Omit<User, 'status'> & Partial<Pick<User, 'status'>>>(item);
  return { ...user, status: user.status ?? 'active' };
}

const isActiveOwnerItem = (user: Pick<User, 'role' | 'status'>) =>
  user.role === 'owner' && user.status !== 'disabled';

/** Transactions that meet another on the tenant item are sent again, after a jittered pause. */
const MAX_TRANSACTION_ATTEMPTS = 10;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export class DynamoUserRepository implements UserRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async create(user: User): Promise<void> {
    const put = {
      TableName: this.tableName,
      Item: userItem(user),
      ConditionExpression: 'attribute_not_exists(pk)',
    };
    if (!isActiveOwnerItem(user)) {
      await this.client.send(new PutCommand(put));
      return;
    }
    await this.withOwnerCount(user.tenantId, user.id, 1, { Put: put });
  }

  async get(tenantId: string, userId: string): Promise<User | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: userKey(tenantId, userId) }),
    );
    return Item ? userOf(Item) : undefined;
  }

  async getCurrent(tenantId: string, userId: string): Promise<User | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: userKey(tenantId, userId), ConsistentRead: true }),
    );
    return Item ? userOf(Item) : undefined;
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
      map: userOf,
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
          FilterExpression: '#role = :owner AND (attribute_not_exists(#status) OR #status <> :disabled)',
          ExpressionAttributeNames: { '#role': 'role', '#status': 'status' },
          ExpressionAttributeValues: {
            ':pk': `T#${tenantId}`,
            ':prefix': 'USER#',
            ':owner': 'owner',
            ':disabled': 'disabled',
          },
          Select: 'COUNT',
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      count += result.Count ?? 0;
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  async update(
    tenantId: string,
    userId: string,
    patch: UserPatch,
    expectedVersion: number,
    ownerDelta: OwnerDelta = 0,
  ): Promise<User> {
    const update = {
      TableName: this.tableName,
      Key: userKey(tenantId, userId),
      ...versionedUpdate(patch, expectedVersion),
    };
    if (ownerDelta === 0) {
      try {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            ...update,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return userOf(Attributes ?? {});
      } catch (error) {
        if (isConditionFailure(error)) throw versionConflict('User', userId, error);
        throw error;
      }
    }
    await this.withOwnerCount(tenantId, userId, ownerDelta, {
      Update: { ...update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
    });
    // A transaction returns no values; this is the version it wrote (and nobody else can have since
    // without this read seeing theirs, which is as current as ALL_NEW would have been).
    const updated = await this.getCurrent(tenantId, userId);
    if (!updated) throw new NotFoundError('User', userId);
    return updated;
  }

  async delete(
    tenantId: string,
    userId: string,
    expectedVersion: number,
    ownerDelta: OwnerDelta = 0,
  ): Promise<void> {
    const remove = {
      TableName: this.tableName,
      Key: userKey(tenantId, userId),
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': expectedVersion },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    if (ownerDelta === 0) {
      try {
        await this.client.send(new DeleteCommand(remove));
      } catch (error) {
        if (isConditionFailure(error)) throw versionConflict('User', userId, error);
        throw error;
      }
      return;
    }
    await this.withOwnerCount(tenantId, userId, ownerDelta, { Delete: remove });
  }

  /**
   * Writes `userWrite` and moves the tenant's owner count by `delta` in one transaction. A
   * decrement is conditional on the count staying at least 1: of two owners demoting each other
   * at the same moment, one wins and the other gets 409.
   */
  private async withOwnerCount(
    tenantId: string,
    userId: string,
    delta: 1 | -1,
    userWrite: TransactItem,
  ): Promise<void> {
    const counter: TransactItem = {
      Update: {
        TableName: this.tableName,
        Key: tenantKey(tenantId),
        UpdateExpression: 'ADD ownerCount :delta',
        ConditionExpression: delta < 0 ? 'ownerCount > :one' : 'attribute_exists(ownerCount)',
        ExpressionAttributeValues: { ':delta': delta, ...(delta < 0 ? { ':one': 1 } : {}) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
    let initialised = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: [userWrite, counter] }));
        return;
      } catch (error) {
        const user = transactionItemAtFailure(error, 0);
        if (user.failed) {
          if (userWrite.Put) throw new ConflictError(`User ${userId} already exists`);
          if (!user.item) throw new NotFoundError('User', userId);
          throw new ConflictError(
            `User ${userId} was changed by someone else (now version ${String(user.item.version)}); re-read it and retry`,
            { currentVersion: user.item.version },
          );
        }
        const tenant = transactionItemAtFailure(error, 1);
        if (tenant.failed) {
          if (!tenant.item) throw new NotFoundError('Tenant', tenantId);
          if (tenant.item.ownerCount === undefined && !initialised) {
            await this.initialiseOwnerCount(tenantId);
            initialised = true;
            continue;
          }
          throw new ConflictError('A tenant must keep at least one active owner');
        }
        const reasons =
          error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        if (reasons.some((r) => r.Code === 'TransactionConflict')) {
          if (attempt < MAX_TRANSACTION_ATTEMPTS) {
            await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
            continue;
          }
          throw new ConflictError('The tenant’s users are being changed by someone else; retry');
        }
        throw error;
      }
    }
  }

  /** For tenants from before the counter: counted once; a racing initialisation wins harmlessly. */
  private async initialiseOwnerCount(tenantId: string): Promise<void> {
    const owners = await this.countOwners(tenantId);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: 'SET ownerCount = :owners',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(ownerCount)',
          ExpressionAttributeValues: { ':owners': owners },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
