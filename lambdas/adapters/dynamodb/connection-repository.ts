import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  ConnectionIdentity,
  ConnectionStore,
  StoredConnection,
  SubscriptionTarget,
} from '../../domain/realtime/ports';
import type { TableClient } from './document-client';

/**
 * WebSocket connections and subscriptions, in the tenant's own partitions (the `$connect`
 * authorizer proved the tenant, and every later frame carries it back: nothing here is global).
 *   connection    pk = T#<tenantId>#WSCONN               sk = <connectionId>   (TTL expiresAt: 2 h)
 *   subscription  pk = T#<tenantId>#WSSUB#<cnv_…|agt_…>   sk = <connectionId>   (TTL expiresAt: the connection's)
 * The connection item lists its subscriptions (`targets`) so that `$disconnect` removes them all.
 */
const connectionKey = (tenantId: string, connectionId: string) => ({
  pk: `T#${tenantId}#WSCONN`,
  sk: connectionId,
});
const subscriptionPartition = (tenantId: string, target: SubscriptionTarget) =>
  `T#${tenantId}#WSSUB#${target.id}`;
const targetOf = (id: string): SubscriptionTarget =>
  id.startsWith('agt_') ? { kind: 'agent', id } : { kind: 'conversation', id };

export class DynamoConnectionStore implements ConnectionStore {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async put(connection: StoredConnection): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...connectionKey(connection.identity.tenantId, connection.connectionId),
          connectionId: connection.connectionId,
          identity: connection.identity,
          connectedAt: connection.connectedAt,
          expiresAt: connection.expiresAt,
          ...(connection.conversationId ? { conversationId: connection.conversationId } : {}),
        },
      }),
    );
  }

  async get(tenantId: string, connectionId: string): Promise<StoredConnection | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: connectionKey(tenantId, connectionId),
        ConsistentRead: true,
      }),
    );
    // TTL deletes within days, not at the second: an expired item is a closed connection.
    if (!Item || (Item.expiresAt as number) <= this.nowSeconds()) return undefined;
    return {
      connectionId: Item.connectionId as string,
      identity: Item.identity as ConnectionIdentity,
      connectedAt: Item.connectedAt as string,
      expiresAt: Item.expiresAt as number,
      ...(Item.conversationId ? { conversationId: Item.conversationId as string } : {}),
    };
  }

  async bindConversation(tenantId: string, connectionId: string, conversationId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(tenantId, connectionId),
          UpdateExpression: 'SET conversationId = :c',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(conversationId)',
          ExpressionAttributeValues: { ':c': conversationId },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async remove(tenantId: string, connectionId: string): Promise<void> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: connectionKey(tenantId, connectionId),
        ConsistentRead: true,
        ProjectionExpression: 'targets',
      }),
    );
    const targets = [...((Item?.targets as Set<string> | undefined) ?? [])];
    const keys = [
      ...targets.map((id) => ({ pk: subscriptionPartition(tenantId, targetOf(id)), sk: connectionId })),
      connectionKey(tenantId, connectionId),
    ];
    for (let start = 0; start < keys.length; start += 25) {
      let requests = keys.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; requests.length > 0 && attempt < 5; attempt += 1) {
        const { UnprocessedItems } = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
  }

  async subscribe(
    tenantId: string,
    connectionId: string,
    target: SubscriptionTarget,
    expiresAt: number,
  ): Promise<void> {
    await Promise.all([
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: subscriptionPartition(tenantId, target), sk: connectionId, expiresAt },
        }),
      ),
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(tenantId, connectionId),
          UpdateExpression: 'ADD targets :t',
          ExpressionAttributeValues: { ':t': new Set([target.id]) },
        }),
      ),
    ]);
  }

  async unsubscribe(tenantId: string, connectionId: string, target: SubscriptionTarget): Promise<void> {
    await Promise.all([
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: subscriptionPartition(tenantId, target), sk: connectionId },
        }),
      ),
      this.client
        .send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: connectionKey(tenantId, connectionId),
            UpdateExpression: 'DELETE targets :t',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':t': new Set([target.id]) },
          }),
        )
        .catch((error: { name?: string }) => {
          if (error.name !== 'ConditionalCheckFailedException') throw error;
        }),
    ]);
  }

  async subscribers(tenantId: string, targets: readonly SubscriptionTarget[]): Promise<string[]> {
    const now = this.nowSeconds();
    const pages = await Promise.all(
      targets.map(async (target) => {
        const ids: string[] = [];
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': subscriptionPartition(tenantId, target), ':now': now },
              FilterExpression: 'expiresAt > :now',
              ProjectionExpression: 'sk',
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          );
          for (const item of page.Items ?? []) ids.push(item.sk as string);
          startKey = page.LastEvaluatedKey;
        } while (startKey);
        return ids;
      }),
    );
    return [...new Set(pages.flat())];
  }
}
