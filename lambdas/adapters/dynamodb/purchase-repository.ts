import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Purchase, PurchaseRepository } from '../../domain/billing/ports';
import { NotFoundError } from '../../domain/shared/errors';
import { isConditionFailure, itemAtFailure, transactionItemAtFailure, withoutKeys } from './conditions';
import type { TableClient } from './document-client';

/**
 * Token purchases.
 *   purchase        pk = T#<tenantId>#PURCHASE              sk = <purchaseId>
 *   purchase key    pk = T#<tenantId>#PURCHASEKEY           sk = <idempotency key>  → purchaseId (TTL 30 days)
 *   payment lookup  pk = PAYMENT#<provider>#<paymentId>     sk = PURCHASE           → tenantId, purchaseId
 *                   (platform-level: the payment webhook's only way from a payment to its tenant)
 */
const purchaseKey = (tenantId: string, purchaseId: string) => ({
  pk: `T#${tenantId}#PURCHASE`,
  sk: purchaseId,
});
const idempotencyKeyItem = (tenantId: string, key: string) => ({ pk: `T#${tenantId}#PURCHASEKEY`, sk: key });
const paymentKey = (provider: string, paymentId: string) => ({
  pk: `PAYMENT#${provider}#${paymentId}`,
  sk: 'PURCHASE',
});
const KEY_TTL_SECONDS = 30 * 86_400;

const toPurchase = (item: Record<string, unknown>) => withoutKeys<Purchase>(item);

export class DynamoPurchaseRepository implements PurchaseRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async create(purchase: Purchase): Promise<{ purchase: Purchase; created: boolean }> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...idempotencyKeyItem(purchase.tenantId, purchase.idempotencyKey),
                  entity: 'purchaseKey',
                  purchaseId: purchase.id,
                  expiresAt: Math.floor(Date.parse(purchase.createdAt) / 1000) + KEY_TTL_SECONDS,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...purchaseKey(purchase.tenantId, purchase.id), entity: 'purchase', ...purchase },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return { purchase, created: true };
    } catch (error) {
      const claimed = transactionItemAtFailure(error, 0);
      if (!claimed.failed) throw error;
      const earlier = claimed.item
        ? await this.get(purchase.tenantId, String(claimed.item.purchaseId))
        : undefined;
      if (!earlier) throw error;
      return { purchase: earlier, created: false };
    }
  }

  async get(tenantId: string, purchaseId: string): Promise<Purchase | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: purchaseKey(tenantId, purchaseId),
        ConsistentRead: true,
      }),
    );
    return Item ? toPurchase(Item) : undefined;
  }

  async attachPayment(
    tenantId: string,
    purchaseId: string,
    provider: string,
    paymentId: string,
    at: string,
  ): Promise<Purchase> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: purchaseKey(tenantId, purchaseId),
          UpdateExpression: 'SET provider = :provider, paymentId = :paymentId, updatedAt = :at',
          // The provider's idempotency key is the purchase's, so a retry gets the same payment.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(paymentId) OR (paymentId = :paymentId AND provider = :provider))',
          ExpressionAttributeValues: { ':provider': provider, ':paymentId': paymentId, ':at': at },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toPurchase(Attributes ?? {});
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = itemAtFailure(error);
      if (!item) throw new NotFoundError('Purchase', purchaseId);
      throw new Error(
        `Purchase ${purchaseId} is already paid by ${String(item.provider)} payment ${String(item.paymentId)}`,
      );
    }
  }

  /** Platform-level, written before the payment is attached to its purchase (the webhook's way in). */
  async recordPayment(
    provider: string,
    paymentId: string,
    tenantId: string,
    purchaseId: string,
  ): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...paymentKey(provider, paymentId), entity: 'paymentLookup', tenantId, purchaseId },
      }),
    );
  }

  async findByPayment(provider: string, paymentId: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: paymentKey(provider, paymentId),
        ConsistentRead: true,
      }),
    );
    return Item ? { tenantId: String(Item.tenantId), purchaseId: String(Item.purchaseId) } : undefined;
  }

  markSucceeded(tenantId: string, purchaseId: string, entryId: string, at: string): Promise<Purchase> {
    // From failed too: a PaymentIntent declined once may succeed with the customer's next card.
    return this.move(tenantId, purchaseId, 'succeeded', '#status <> :status', at, { entryId });
  }

  markFailed(tenantId: string, purchaseId: string, reason: string, at: string): Promise<Purchase> {
    return this.move(tenantId, purchaseId, 'failed', '#status = :pending', at, { failureReason: reason });
  }

  private async move(
    tenantId: string,
    purchaseId: string,
    status: Purchase['status'],
    condition: string,
    at: string,
    fields: Record<string, string>,
  ): Promise<Purchase> {
    const names = Object.keys(fields);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: purchaseKey(tenantId, purchaseId),
          UpdateExpression: `SET #status = :status, updatedAt = :at${names.map((name) => `, ${name} = :${name}`).join('')}`,
          ConditionExpression: `attribute_exists(pk) AND ${condition}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':at': at,
            ...(condition.includes(':pending') ? { ':pending': 'pending' } : {}),
            ...Object.fromEntries(names.map((name) => [`:${name}`, fields[name]])),
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toPurchase(Attributes ?? {});
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = itemAtFailure(error);
      if (!current) throw new NotFoundError('Purchase', purchaseId);
      return toPurchase(current);
    }
  }
}
