import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SuspendResult, Suspension } from '../../domain/billing/ports';
import { NotFoundError } from '../../domain/shared/errors';
import { balanceKey, suspensionKey, type TransactItem, toSuspension } from './billing-items';
import { isConditionFailure, transactionItemAtFailure } from './conditions';
import type { TableClient } from './document-client';
import type { Backoff } from './ledger-store';
import { tenantKey } from './tenant-repository';

/** A suspension: the tenant's status and the record of what it paused, changed together. */
export class DynamoSuspensionStore {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
    private readonly backoffs: Backoff,
  ) {}

  private backoff(attempt: number): Promise<void> {
    return this.backoffs.wait(attempt);
  }

  async suspend(
    suspension: Suspension,
    options: { readonly unlessAvailableAtLeast?: number } = {},
  ): Promise<SuspendResult> {
    const { tenantId } = suspension;
    const { pausedAgentIds: _none, notifiedAt: _not, ...record } = suspension;
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: 'SET #status = :suspended, updatedAt = :at ADD version :one',
          ConditionExpression: 'attribute_exists(pk) AND #status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':suspended': 'suspended',
            ':active': 'active',
            ':at': suspension.suspendedAt,
            ':one': 1,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      // Unconditional: a record left by a reactivation that crashed half-way is replaced.
      {
        Put: {
          TableName: this.tableName,
          Item: { ...suspensionKey(tenantId), entity: 'suspension', ...record },
        },
      },
    ];
    if (options.unlessAvailableAtLeast !== undefined) {
      items.push({
        ConditionCheck: {
          TableName: this.tableName,
          Key: balanceKey(tenantId),
          ConditionExpression: 'attribute_not_exists(available) OR available < :required',
          ExpressionAttributeValues: { ':required': options.unlessAvailableAtLeast },
        },
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        return 'suspended';
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const tenant = transactionItemAtFailure(error, 0);
        if (tenant.failed) {
          if (!tenant.item) throw new NotFoundError('Tenant', tenantId);
          return 'already_suspended';
        }
        if (items.length > 2 && transactionItemAtFailure(error, 2).failed) return 'can_pay';
        const conflict = (error.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
        if (!conflict || attempt >= 10) throw error;
        await this.backoff(attempt + 2);
      }
    }
  }

  async getSuspension(tenantId: string): Promise<Suspension | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: suspensionKey(tenantId), ConsistentRead: true }),
    );
    return Item ? toSuspension(Item) : undefined;
  }

  async notePausedAgents(tenantId: string, agentIds: readonly string[]): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: suspensionKey(tenantId),
          UpdateExpression: 'ADD pausedAgentIds :ids',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':ids': new Set(agentIds) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async markSuspensionNotified(tenantId: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: suspensionKey(tenantId),
          UpdateExpression: 'SET notifiedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      // Lifted meanwhile: there is nothing left to mark.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async reactivate(tenantId: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: tenantKey(tenantId),
                UpdateExpression: 'SET #status = :active, updatedAt = :at ADD version :one',
                ConditionExpression: '#status = :suspended',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':active': 'active',
                  ':suspended': 'suspended',
                  ':at': at,
                  ':one': 1,
                },
              },
            },
            { Delete: { TableName: this.tableName, Key: suspensionKey(tenantId) } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (transactionItemAtFailure(error, 0).failed) return false;
      throw error;
    }
  }
}
