import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { WebChatKey } from '../../domain/realtime/authorize';
import type { WebChatSettings, WebChatStore } from '../../domain/realtime/web-chat';
import { agentPartition } from './agent-repository';
import { withoutKeys } from './conditions';
import type { TableClient } from './document-client';

/**
 * The public web chat of an agent:
 *   settings          pk = T#<tenantId>#AGENT#<agentId>      sk = WEBCHAT
 *   key index         pk = WEBKEY#<publishableKey>           sk = KEY      (platform-level: read by the
 *                     `$connect` authorizer before any tenant is known, written by the agents routes)
 *   connection count  pk = T#<tenantId>#WEBRATE#<agentId>    sk = <minute>#<key|addr#hash>  (TTL 5 min)
 *   address count     pk = WEBRATE#<address hash>            sk = <minute>  (platform-level: every key's
 *                     connections from one address; TTL 5 min)
 * The signing secret is in the tenant's secret store (channel `web`), never here.
 */
const settingsKey = (tenantId: string, agentId: string) => ({
  pk: agentPartition(tenantId, agentId),
  sk: 'WEBCHAT',
});
const indexKey = (publishableKey: string) => ({ pk: `WEBKEY#${publishableKey}`, sk: 'KEY' });

export class DynamoWebChatStore implements WebChatStore {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string, agentId: string): Promise<WebChatSettings | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: settingsKey(tenantId, agentId),
        ConsistentRead: true,
      }),
    );
    return Item ? withoutKeys<WebChatSettings>(Item) : undefined;
  }

  async put(tenantId: string, settings: WebChatSettings): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...settingsKey(tenantId, settings.agentId), ...settings },
      }),
    );
  }

  async putKey(key: WebChatKey): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...indexKey(key.publishableKey), ...key } }),
    );
  }

  async removeKey(publishableKey: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: indexKey(publishableKey) }));
  }

  async resolveKey(publishableKey: string): Promise<WebChatKey | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: indexKey(publishableKey) }),
    );
    return Item ? withoutKeys<WebChatKey>(Item) : undefined;
  }

  count(tenantId: string, agentId: string, bucket: string, windowStart: string): Promise<number> {
    return this.increment(
      { pk: `T#${tenantId}#WEBRATE#${agentId}`, sk: `${windowStart}#${bucket}` },
      windowStart,
    );
  }

  countAddress(addressHash: string, windowStart: string): Promise<number> {
    return this.increment({ pk: `WEBRATE#${addressHash}`, sk: windowStart }, windowStart);
  }

  private async increment(key: { pk: string; sk: string }, windowStart: string): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'ADD connections :one SET expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeValues: {
          ':one': 1,
          ':expires': Math.floor(Date.parse(`${windowStart}:00Z`) / 1000) + 6 * 60,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return (Attributes?.connections as number | undefined) ?? 1;
  }
}
