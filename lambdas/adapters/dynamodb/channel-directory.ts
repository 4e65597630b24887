import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChannelDirectory, ChannelRoute } from '../../domain/channels/model';
import { isConditionFailure } from './conditions';

/**
 * The global channel directory: which agent of which tenant answers a (channel, address).
 *   route  pk = CHADDR#<channel>#<address>  sk = ROUTE   → tenantId, agentId, claimedAt
 * Platform-level (no `T#` prefix): written by the channel settings routes inside
 * `inPlatformScope`, read by the webhooks before any tenant is known. Addresses arrive normalised
 * (`channelAddress`); normalising twice is harmless, so this does not.
 */
export const channelRouteKey = (channel: ChannelRoute['channel'], address: string) => ({
  pk: `CHADDR#${channel}#${address}`,
  sk: 'ROUTE',
});

export class DynamoChannelDirectory implements ChannelDirectory {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * One conditional write: the item is created, or re-written by the agent that holds it; any
   * other holder fails the condition. Of concurrent claims by different agents exactly one wins.
   */
  async claim(route: ChannelRoute): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: channelRouteKey(route.channel, route.address),
          UpdateExpression:
            'SET entity = :entity, channel = :channel, address = :address, tenantId = :tenantId, agentId = :agentId, claimedAt = if_not_exists(claimedAt, :now)',
          ConditionExpression: 'attribute_not_exists(pk) OR (tenantId = :tenantId AND agentId = :agentId)',
          ExpressionAttributeValues: {
            ':entity': 'channelRoute',
            ':channel': route.channel,
            ':address': route.address,
            ':tenantId': route.tenantId,
            ':agentId': route.agentId,
            ':now': this.now().toISOString(),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Idempotent; a claim held by another agent (the address moved on) is left alone. */
  async release(route: ChannelRoute): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: channelRouteKey(route.channel, route.address),
          ConditionExpression: 'tenantId = :tenantId AND agentId = :agentId',
          ExpressionAttributeValues: { ':tenantId': route.tenantId, ':agentId': route.agentId },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      throw error;
    }
  }

  /**
   * Consistent: an address released by one agent and claimed by another routes to the new holder
   * from the moment the claim commits.
   */
  async resolve(channel: ChannelRoute['channel'], address: string): Promise<ChannelRoute | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: channelRouteKey(channel, address),
        ConsistentRead: true,
        ProjectionExpression: 'tenantId, agentId',
      }),
    );
    if (!Item || typeof Item.tenantId !== 'string' || typeof Item.agentId !== 'string') return undefined;
    return { channel, address, tenantId: Item.tenantId, agentId: Item.agentId };
  }
}
