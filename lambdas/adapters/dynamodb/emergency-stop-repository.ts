import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EmergencyStop, EmergencyStopRepository } from '../../domain/actions/model';
import { isConditionFailure, withoutKeys } from './conditions';
import type { TableClient } from './document-client';

/**
 * The tenant-wide emergency stop.
 *   stop  pk = T#<tenantId>  sk = EMERGENCY_STOP   (present = in force)
 * Read (consistently) before every action is decided, so it sits in the tenant's own partition
 * next to the tenant item. Stopping one agent is the agent's lifecycle (paused), not this item.
 * The action repository's `startExecution` checks this item in the transaction that moves an
 * action to executing, so the key is exported for it.
 */
export const stopKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'EMERGENCY_STOP' });

export class DynamoEmergencyStopRepository implements EmergencyStopRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async getTenantStop(tenantId: string): Promise<EmergencyStop | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: stopKey(tenantId), ConsistentRead: true }),
    );
    return Item ? withoutKeys<EmergencyStop>(Item) : undefined;
  }

  /** Stopping again replaces the reason and who stopped; the tenant stays stopped either way. */
  async setTenantStop(stop: EmergencyStop): Promise<void> {
    if (stop.agentId !== undefined) {
      // A programming error, not a request error: an agent-scoped stop would read as tenant-wide.
      throw new Error('setTenantStop: a tenant-wide stop carries no agentId');
    }
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...stopKey(stop.tenantId), entity: 'emergencyStop', ...stop },
      }),
    );
  }

  async stampTenantStop(tenantId: string, stoppedAt: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: stopKey(tenantId),
          UpdateExpression: 'SET stoppedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': stoppedAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Idempotent: lifting a stop that is not in force does nothing. */
  async clearTenantStop(tenantId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: stopKey(tenantId) }));
  }
}
