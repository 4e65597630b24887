import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { MessagingChannel } from '../../domain/channels/model';
import type { InboundDedup } from '../../domain/channels/receive';
import { isConditionFailure } from './conditions';

/**
 * Platform-level (no tenant in the key: the webhook has not routed yet when it is written):
 *   pk = INBOUND#<channel>#<providerMessageId>  sk = DEDUP  expiresAt (TTL, epoch seconds)
 */
const dedupKey = (channel: MessagingChannel, providerMessageId: string) => ({
  pk: `INBOUND#${channel}#${providerMessageId}`,
  sk: 'DEDUP',
});

export class DynamoInboundDedup implements InboundDedup {
  constructor(
    private readonly client: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly tableName: string,
  ) {}

  async claim(channel: MessagingChannel, providerMessageId: string, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...dedupKey(channel, providerMessageId), entity: 'inboundDedup', expiresAt },
          // An expired claim may linger until TTL removes it: it no longer counts.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async release(channel: MessagingChannel, providerMessageId: string): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: dedupKey(channel, providerMessageId) }),
    );
  }
}
