import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Agent, AgentVersion } from '../../domain/agents/schemas';
import type { ConfigurableChannel } from '../../domain/channels/model';
import type {
  ChannelSetting,
  ChannelSettingChange,
  ChannelSettingsRepository,
} from '../../domain/channels/settings';
import { agentPartition, type DynamoAgentRepository } from './agent-repository';
import { withoutKeys } from './conditions';

/**
 * An agent's settings per messaging channel (no credential: those are in the channel secrets).
 *   setting  pk = T#<tenantId>#AGENT#<agentId>  sk = CHANNEL#<type>
 * Written in the transaction that moves the agent's configuration (its `channels` entry) to its
 * next version, so the two never disagree.
 */
export const channelSettingKey = (tenantId: string, agentId: string, type: ConfigurableChannel) => ({
  pk: agentPartition(tenantId, agentId),
  sk: `CHANNEL#${type}`,
});

export class DynamoChannelSettingsRepository implements ChannelSettingsRepository {
  constructor(
    private readonly agents: DynamoAgentRepository,
    private readonly client: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly tableName: string,
  ) {}

  async list(tenantId: string, agentId: string): Promise<ChannelSetting[]> {
    const settings: ChannelSetting[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': agentPartition(tenantId, agentId), ':prefix': 'CHANNEL#' },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) settings.push(withoutKeys<ChannelSetting>(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return settings;
  }

  async get(
    tenantId: string,
    agentId: string,
    type: ConfigurableChannel,
  ): Promise<ChannelSetting | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: channelSettingKey(tenantId, agentId, type),
        ConsistentRead: true,
      }),
    );
    return Item ? withoutKeys<ChannelSetting>(Item) : undefined;
  }

  save(next: Agent, version: AgentVersion, expectedVersion: number, change: ChannelSettingChange) {
    const write =
      'put' in change
        ? {
            Put: {
              TableName: this.tableName,
              Item: {
                ...channelSettingKey(next.tenantId, next.id, change.put.type),
                entity: 'channelSetting',
                ...change.put,
              },
            },
          }
        : {
            Delete: {
              TableName: this.tableName,
              Key: channelSettingKey(next.tenantId, next.id, change.remove),
            },
          };
    return this.agents.saveConfigWith(next, version, expectedVersion, [write]);
  }
}
