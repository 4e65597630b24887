import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ChannelType } from '../../domain/agents/schemas';
import type {
  Conversation,
  ConversationFilter,
  ConversationRepository,
  ConversationStatus,
  Message,
} from '../../domain/conversations/conversations';
import { NotFoundError } from '../../domain/shared/errors';
import { newId } from '../../domain/shared/ids';
import { isConditionFailure, transactionItemAtFailure, withoutKeys } from './conditions';
import type { TableClient } from './document-client';
import { queryPage } from './pagination';
import { GSI1 } from './table-definition';

/**
 * Conversation entity and its messages.
 *   conversation  pk = T#<tenantId>#CONV#<conversationId>  sk = META
 *                 gsi1pk = T#<tenantId>#CONVS  gsi1sk = <last activity ISO time>#<conversationId>
 *   (agent, channel, customer) claim
 *                 pk = T#<tenantId>#AGENT#<agentId>  sk = CONV#<channel>#<customerId>  → conversationId
 *   message       pk = T#<tenantId>#CONV#<conversationId>  sk = MSG#<executionId>#<n>
 * Message keys come from the execution that produced them, so a retried turn cannot store a
 * message twice; execution ids are ULIDs, so messages sort by time.
 */
const conversationPartition = (tenantId: string, conversationId: string) =>
  `T#${tenantId}#CONV#${conversationId}`;
export const conversationKey = (tenantId: string, conversationId: string) => ({
  pk: conversationPartition(tenantId, conversationId),
  sk: 'META',
});
export const conversationActivityIndex = (tenantId: string, conversationId: string, at: string) => ({
  gsi1pk: `T#${tenantId}#CONVS`,
  gsi1sk: `${at}#${conversationId}`,
});
const claimKey = (tenantId: string, agentId: string, channel: ChannelType, customerId: string) => ({
  pk: `T#${tenantId}#AGENT#${agentId}`,
  sk: `CONV#${channel}#${customerId}`,
});
export const messageKey = (tenantId: string, message: Pick<Message, 'conversationId' | 'id'>) => ({
  pk: conversationPartition(tenantId, message.conversationId),
  sk: `MSG#${message.id}`,
});

const toConversation = (item: Record<string, unknown>) => withoutKeys<Conversation>(item);
const toMessage = (item: Record<string, unknown>) => withoutKeys<Message>(item);

export class DynamoConversationRepository implements ConversationRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string, conversationId: string): Promise<Conversation | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: conversationKey(tenantId, conversationId) }),
    );
    return Item ? toConversation(Item) : undefined;
  }

  private async claimed(tenantId: string, agentId: string, channel: ChannelType, customerId: string) {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: claimKey(tenantId, agentId, channel, customerId) }),
    );
    return Item ? this.get(tenantId, String(Item.conversationId)) : undefined;
  }

  async open(
    tenantId: string,
    agentId: string,
    channel: ChannelType,
    customerId: string,
  ): Promise<Conversation> {
    const existing = await this.claimed(tenantId, agentId, channel, customerId);
    if (existing) return existing;
    const now = new Date().toISOString();
    const conversation: Conversation = {
      id: newId('conversation'),
      tenantId,
      agentId,
      channel,
      customerId,
      status: 'active',
      messageCount: 0,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...claimKey(tenantId, agentId, channel, customerId),
                  entity: 'conversationClaim',
                  conversationId: conversation.id,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...conversationKey(tenantId, conversation.id),
                  ...conversationActivityIndex(tenantId, conversation.id, now),
                  entity: 'conversation',
                  ...conversation,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return conversation;
    } catch (error) {
      if (transactionItemAtFailure(error, 0).failed) {
        const winner = await this.claimed(tenantId, agentId, channel, customerId);
        if (winner) return winner;
      }
      throw error;
    }
  }

  /**
   * Every filter (agent, customer, channel, status) is a FilterExpression over the tenant's one
   * activity-ordered partition, not a key condition. Why: the listing is ordered by last activity,
   * and the activity sort key is rewritten on every message (execution-repository,
   * channel-conversation-store); keying by channel too would mean a second index item per
   * conversation rewritten on each message (twice the writes on the hottest path) or a second GSI
   * (DESIGN §2 allows one only with its own access pattern). A channel has at most
   * CHANNEL_TYPES.length values, so it keeps a sizeable share of the partition, and queryPage
   * follows LastEvaluatedKey until the page is full or its read bound is reached: a page may come
   * back short, even empty, but still carries `nextCursor` while the listing goes on.
   */
  list(tenantId: string, filter: ConversationFilter) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': `T#${tenantId}#CONVS` };
    const filters: string[] = [];
    if (filter.agentId) {
      values[':agentId'] = filter.agentId;
      filters.push('agentId = :agentId');
    }
    if (filter.customerId) {
      values[':customerId'] = filter.customerId;
      filters.push('customerId = :customerId');
    }
    if (filter.channel) {
      names['#channel'] = 'channel';
      values[':channel'] = filter.channel;
      filters.push('#channel = :channel');
    }
    if (filter.status) {
      names['#status'] = 'status';
      values[':status'] = filter.status;
      filters.push('#status = :status');
    }
    return queryPage<Conversation>({
      client: this.client,
      input: {
        TableName: this.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :pk',
        ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
      },
      scope: JSON.stringify([
        'conversations',
        tenantId,
        filter.agentId,
        filter.customerId,
        filter.status,
        filter.channel,
      ]),
      limit: filter.limit,
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
      map: toConversation,
    });
  }

  messages(
    tenantId: string,
    conversationId: string,
    page: { limit: number; cursor?: string; order: 'asc' | 'desc' },
  ) {
    return queryPage<Message>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': conversationPartition(tenantId, conversationId),
          ':prefix': 'MSG#',
        },
        ScanIndexForward: page.order === 'asc',
      },
      scope: JSON.stringify(['messages', tenantId, conversationId, page.order]),
      limit: page.limit,
      ...(page.cursor ? { cursor: page.cursor } : {}),
      map: toMessage,
    });
  }

  async recentMessages(
    tenantId: string,
    conversationId: string,
    limit: number,
    after?: string,
  ): Promise<Message[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': conversationPartition(tenantId, conversationId),
          ':from': `MSG#${after ?? ''}`,
          ':to': 'MSG#~',
        },
        ScanIndexForward: false,
        Limit: limit + 1,
      }),
    );
    return Items.map(toMessage)
      .filter((message) => message.id !== after)
      .slice(0, limit)
      .reverse();
  }

  async setStatus(
    tenantId: string,
    conversationId: string,
    status: ConversationStatus,
  ): Promise<Conversation> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: conversationKey(tenantId, conversationId),
          UpdateExpression: 'SET #status = :status, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':now': new Date().toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toConversation(Attributes ?? {});
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('Conversation', conversationId);
      throw error;
    }
  }
}
