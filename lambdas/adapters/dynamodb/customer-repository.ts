import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Customer, CustomerAddress, CustomerRepository } from '../../domain/conversations/customers';
import { newId } from '../../domain/shared/ids';
import { transactionItemAtFailure, withoutKeys } from './conditions';
import type { TableClient } from './document-client';

/**
 * Customer entity and its address claims.
 *   customer       pk = T#<tenantId>        sk = CUST#<customerId>
 *   address claim  pk = T#<tenantId>#ADDR   sk = <kind>#<normalised address>   → customerId
 * A claim makes an address belong to exactly one customer of the tenant, so SMS, WhatsApp and
 * voice from one number meet in one customer.
 */
export const customerKey = (tenantId: string, customerId: string) => ({
  pk: `T#${tenantId}`,
  sk: `CUST#${customerId}`,
});
const claimKey = (tenantId: string, address: CustomerAddress) => ({
  pk: `T#${tenantId}#ADDR`,
  sk: `${address.kind}#${address.value}`,
});

export class DynamoCustomerRepository implements CustomerRepository {
  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string, customerId: string): Promise<Customer | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: customerKey(tenantId, customerId) }),
    );
    return Item ? withoutKeys<Customer>(Item) : undefined;
  }

  private async claimed(tenantId: string, address: CustomerAddress): Promise<Customer | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: claimKey(tenantId, address) }),
    );
    return Item ? this.get(tenantId, String(Item.customerId)) : undefined;
  }

  async resolve(tenantId: string, address: CustomerAddress, name?: string): Promise<Customer> {
    const existing = await this.claimed(tenantId, address);
    if (existing) return existing;
    const now = new Date().toISOString();
    const customer: Customer = {
      id: newId('customer'),
      tenantId,
      ...(name ? { name } : {}),
      addresses: [address],
      context: name ? { name } : {},
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
                Item: { ...claimKey(tenantId, address), entity: 'addressClaim', customerId: customer.id },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...customerKey(tenantId, customer.id), entity: 'customer', ...customer },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return customer;
    } catch (error) {
      // Another first message from the same address won the claim: that customer is ours too.
      if (transactionItemAtFailure(error, 0).failed) {
        const winner = await this.claimed(tenantId, address);
        if (winner) return winner;
      }
      throw error;
    }
  }
}
