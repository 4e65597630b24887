import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { EmergencyStop, EmergencyStopRepository } from '../../domain/actions/model';
import { withoutKeys } from './conditions';

/**
 * The tenant-wide emergency stop.
 *   stop  pk = T#<tenantId>  sk = EMERGENCY_STOP   (present = in force)
 * Read (consistently) before every action is decided, so it sits in the tenant's own partition
 * next to the tenant item. Stopping one agent is the agent's lifecycle (paused), not this item.
 */
const stopKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'EMERGENCY_STOP' });

export class DynamoEmergencyStopRepository implements EmergencyStopRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
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

  /** Idempotent: lifting a stop that is not in force does nothing. */
  async clearTenantStop(tenantId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: stopKey(tenantId) }));
  }
}
