import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { MessagingChannel } from '../../domain/channels/model';
import type { ChannelConversationStore, CustomerChannelState } from '../../domain/channels/ports';
import type { Message, MessageDelivery } from '../../domain/conversations/conversations';
import { normaliseAddress } from '../../domain/conversations/customers';
import { isConditionFailure, transactionItemAtFailure, withoutKeys } from './conditions';
import { conversationActivityIndex, conversationKey, messageKey } from './conversation-repository';

/**
 * The channel side of conversations (see ChannelConversationStore for the key layout):
 *   customer channel state  pk = T#<tenantId>#CUSTOMER#<customerId>  sk = CHANNEL#<channel>
 *   delivery lookup         pk = T#<tenantId>#DELIVERY#<provider>#<providerMessageId>  sk = DELIVERY
 *                           → conversationId, messageId (a status callback names the provider id only)
 *   reply context           pk = T#<tenantId>#CONV#<conversationId>  sk = REPLYTO
 *                           → the thread of the customer's last message (staff replies land in it)
 * Messages stored outside a turn use the conversation's own message keys.
 */
const replyContextKey = (tenantId: string, conversationId: string) => ({
  pk: conversationKey(tenantId, conversationId).pk,
  sk: 'REPLYTO',
});
const stateKey = (tenantId: string, customerId: string, channel: MessagingChannel) => ({
  pk: `T#${tenantId}#CUSTOMER#${customerId}`,
  sk: `CHANNEL#${channel}`,
});
const deliveryKey = (tenantId: string, provider: string, providerMessageId: string) => ({
  pk: `T#${tenantId}#DELIVERY#${provider}#${providerMessageId}`,
  sk: 'DELIVERY',
});

export class DynamoChannelConversationStore implements ChannelConversationStore {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly tableName: string,
  ) {}

  async state(
    tenantId: string,
    customerId: string,
    channel: MessagingChannel,
  ): Promise<CustomerChannelState> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: stateKey(tenantId, customerId, channel),
        ConsistentRead: true,
      }),
    );
    return {
      optedOut: Item?.optedOut === true,
      ...(typeof Item?.optedOutAt === 'string' ? { optedOutAt: Item.optedOutAt } : {}),
      ...(typeof Item?.lastInboundAt === 'string' ? { lastInboundAt: Item.lastInboundAt } : {}),
      ...(typeof Item?.windowChargedAt === 'string' ? { windowChargedAt: Item.windowChargedAt } : {}),
    };
  }

  /** Has the customer owning this phone number opted out of `channel`? (No customer: no.) */
  async isOptedOut(tenantId: string, channel: 'sms' | 'whatsapp', phone: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `T#${tenantId}#ADDR`, sk: `phone#${normaliseAddress('phone', phone)}` },
      }),
    );
    if (typeof Item?.customerId !== 'string') return false;
    return (await this.state(tenantId, Item.customerId, channel)).optedOut;
  }

  async setOptedOut(
    tenantId: string,
    customerId: string,
    channel: MessagingChannel,
    optedOut: boolean,
    at: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: stateKey(tenantId, customerId, channel),
          UpdateExpression: optedOut
            ? 'SET optedOut = :true, optedOutAt = :at, entity = :entity'
            : 'SET optedOut = :false, optedInAt = :at, entity = :entity',
          // Only a change is written (and confirmed): STOP twice is one opt-out.
          ConditionExpression: optedOut
            ? 'attribute_not_exists(optedOut) OR optedOut = :false'
            : 'optedOut = :true',
          ExpressionAttributeValues: {
            ':true': true,
            ':false': false,
            ':at': at,
            ':entity': 'customerChannel',
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async touchInbound(
    tenantId: string,
    customerId: string,
    channel: MessagingChannel,
    at: string,
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: stateKey(tenantId, customerId, channel),
          UpdateExpression: 'SET lastInboundAt = :at, entity = :entity',
          ConditionExpression: 'attribute_not_exists(lastInboundAt) OR lastInboundAt < :at',
          ExpressionAttributeValues: { ':at': at, ':entity': 'customerChannel' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async setReplyContext(
    tenantId: string,
    conversationId: string,
    replyContext: Readonly<Record<string, string>>,
    at: string,
  ): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: replyContextKey(tenantId, conversationId),
          UpdateExpression: 'SET replyContext = :context, #at = :at, entity = :entity',
          // Messages of one conversation are processed in order; a redelivered older one loses.
          ConditionExpression: 'attribute_not_exists(#at) OR #at <= :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':context': replyContext, ':at': at, ':entity': 'replyContext' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async replyContext(
    tenantId: string,
    conversationId: string,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: replyContextKey(tenantId, conversationId) }),
    );
    const context = Item?.replyContext as Record<string, unknown> | undefined;
    if (!context || typeof context !== 'object') return undefined;
    return Object.fromEntries(
      Object.entries(context).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  }

  async markWindowCharged(
    tenantId: string,
    customerId: string,
    channel: MessagingChannel,
    at: string,
  ): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: stateKey(tenantId, customerId, channel),
        UpdateExpression: 'SET windowChargedAt = :at, entity = :entity',
        ExpressionAttributeValues: { ':at': at, ':entity': 'customerChannel' },
      }),
    );
  }

  async append(tenantId: string, message: Message): Promise<void> {
    const at = message.createdAt;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...messageKey(tenantId, message), entity: 'message', ...message },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: conversationKey(tenantId, message.conversationId),
                UpdateExpression:
                  'SET updatedAt = :at, lastMessageAt = :at, gsi1sk = :activity ADD messageCount :one',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: {
                  ':at': at,
                  ':activity': conversationActivityIndex(tenantId, message.conversationId, at).gsi1sk,
                  ':one': 1,
                },
              },
            },
          ],
        }),
      );
    } catch (error) {
      // Stored already: a redelivered queue message.
      if (transactionItemAtFailure(error, 0).failed) return;
      throw error;
    }
  }

  async setDelivery(
    tenantId: string,
    conversationId: string,
    messageId: string,
    delivery: MessageDelivery,
  ): Promise<void> {
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: messageKey(tenantId, { conversationId, id: messageId }),
              UpdateExpression: 'SET delivery = :delivery',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':delivery': delivery },
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...deliveryKey(tenantId, delivery.provider, delivery.providerMessageId),
                entity: 'deliveryLookup',
                conversationId,
                messageId,
              },
            },
          },
        ],
      }),
    );
  }

  async deliveryOf(
    tenantId: string,
    conversationId: string,
    messageId: string,
  ): Promise<MessageDelivery | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: messageKey(tenantId, { conversationId, id: messageId }),
        ProjectionExpression: 'delivery',
        ConsistentRead: true,
      }),
    );
    return Item?.delivery as MessageDelivery | undefined;
  }

  async updateDeliveryStatus(
    tenantId: string,
    provider: string,
    providerMessageId: string,
    status: string,
    at: string,
    error?: string,
  ): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: deliveryKey(tenantId, provider, providerMessageId) }),
    );
    if (!Item) return false;
    const lookup = withoutKeys<{ conversationId: string; messageId: string }>(Item);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: messageKey(tenantId, { conversationId: lookup.conversationId, id: lookup.messageId }),
          UpdateExpression: `SET delivery.#status = :status, delivery.updatedAt = :at${error ? ', delivery.#error = :error' : ''}`,
          // Callbacks can arrive out of order: an older one never overwrites a newer status.
          ConditionExpression: 'attribute_exists(delivery) AND delivery.updatedAt <= :at',
          ExpressionAttributeNames: { '#status': 'status', ...(error ? { '#error': 'error' } : {}) },
          ExpressionAttributeValues: { ':status': status, ':at': at, ...(error ? { ':error': error } : {}) },
        }),
      );
    } catch (failure) {
      if (!isConditionFailure(failure)) throw failure;
    }
    return true;
  }
}
