import { DynamoAgentRepository } from '../../lambdas/adapters/dynamodb/agent-repository';
import { DynamoBillingRepository } from '../../lambdas/adapters/dynamodb/billing-repository';
import { DynamoPurchaseRepository } from '../../lambdas/adapters/dynamodb/purchase-repository';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { InProcessEventBus } from '../../lambdas/adapters/events/in-process-bus';
import type { PaymentPort, PaymentReceipt } from '../../lambdas/domain/actions/ports';
import { getBalance } from '../../lambdas/domain/billing/billing';
import { DEFAULT_COST_TABLE } from '../../lambdas/domain/billing/costs';
import {
  DEFAULT_TOKEN_PRICE,
  PaymentFailedError,
  type PurchaseDeps,
  paymentSettled,
  startPurchase,
} from '../../lambdas/domain/billing/purchases';
import { freshTable } from '../support/dynamodb';
import { ledgerOf } from '../support/ledger';
import { seedTenant } from '../support/tenants';

let table: Awaited<ReturnType<typeof freshTable>>;
let tenants: DynamoTenantRepository;

beforeAll(async () => {
  table = await freshTable();
  tenants = new DynamoTenantRepository(table.client, table.tableName);
});

/** A provider that answers what the test says, counting the charges it was asked for. */
function provider(answer: (n: number) => PaymentReceipt | Error) {
  const calls: Parameters<PaymentPort['charge']>[1][] = [];
  const port: PaymentPort = {
    charge: async (_tenantId, payment) => {
      calls.push(payment);
      const result = answer(calls.length);
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { port, calls };
}

function depsWith(payments: PaymentPort): PurchaseDeps {
  return {
    billing: new DynamoBillingRepository(table.client, table.tableName),
    tenants,
    agents: new DynamoAgentRepository(table.client, table.tableName),
    events: new InProcessEventBus(),
    costs: DEFAULT_COST_TABLE,
    now: () => new Date(),
    purchases: new DynamoPurchaseRepository(table.client, table.tableName),
    payments,
    tokenPrice: DEFAULT_TOKEN_PRICE,
  };
}

describe('purchases against DynamoDB', () => {
  it('credits a pending purchase when the webhook outruns the create call (found by its metadata)', async () => {
    const owner = await seedTenant(tenants, 'Racing webhook');
    // The provider created the payment but its answer never arrived (a timeout).
    const { port } = provider(() => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const deps = depsWith(port);
    await expect(startPurchase(deps, owner.tenantId, 70, 'race-1', owner.userId)).rejects.toThrow();
    const purchases = deps.purchases as DynamoPurchaseRepository;
    const [pending] = (
      await table.client.send(
        new (
          await import('@aws-sdk/lib-dynamodb')
        ).QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `T#${owner.tenantId}#PURCHASE` },
        }),
      )
    ).Items as { id: string }[];
    expect((await purchases.get(owner.tenantId, String(pending?.id)))?.status).toBe('pending');
    const settled = await Promise.all(
      Array.from({ length: 4 }, () =>
        paymentSettled(deps, 'stripe', 'pi_race', 'succeeded', {
          tenantId: owner.tenantId,
          purchaseId: String(pending?.id),
        }),
      ),
    );
    expect(settled.map((s) => s.outcome)).toEqual(['recorded', 'recorded', 'recorded', 'recorded']);
    expect((await getBalance(deps, owner.tenantId)).available).toBe(70);
    expect(await ledgerOf(deps.billing, owner.tenantId)).toEqual([
      expect.objectContaining({
        type: 'purchase',
        amount: 70,
        reference: 'pi_race',
        actor: 'system:payments',
      }),
    ]);
    // A different payment claiming the same purchase is not this purchase's.
    const other = await paymentSettled(deps, 'stripe', 'pi_other', 'succeeded', {
      tenantId: owner.tenantId,
      purchaseId: String(pending?.id),
    });
    expect(other.outcome).toBe('ignored');
    expect((await getBalance(deps, owner.tenantId)).available).toBe(70);
  });

  it('credits once when the create answer and many webhooks report the same success at once', async () => {
    const owner = await seedTenant(tenants, 'Concurrent');
    const { port, calls } = provider(() => ({
      provider: 'stripe',
      providerId: 'pi_once',
      status: 'succeeded',
    }));
    const deps = depsWith(port);
    const results = await Promise.all([
      startPurchase(deps, owner.tenantId, 30, 'once-1', owner.userId),
      startPurchase(deps, owner.tenantId, 30, 'once-1', owner.userId),
    ]);
    await Promise.all(
      Array.from({ length: 5 }, () => paymentSettled(deps, 'stripe', 'pi_once', 'succeeded')),
    );
    expect(new Set(results.map((r) => r.purchase.id)).size).toBe(1);
    expect(calls.every((c) => c.idempotencyKey === `purchase-${results[0]?.purchase.id}`)).toBe(true);
    expect((await getBalance(deps, owner.tenantId)).available).toBe(30);
    expect(await ledgerOf(deps.billing, owner.tenantId)).toHaveLength(1);
  });

  it('credits nothing for a declined payment, and a later webhook failure leaves it so', async () => {
    const owner = await seedTenant(tenants, 'Declined');
    const { port } = provider(() => ({
      provider: 'stripe',
      providerId: 'pi_declined',
      status: 'failed',
      failureReason: 'card declined',
    }));
    const deps = depsWith(port);
    await expect(startPurchase(deps, owner.tenantId, 30, 'declined-1', owner.userId)).rejects.toBeInstanceOf(
      PaymentFailedError,
    );
    await paymentSettled(deps, 'stripe', 'pi_declined', 'failed');
    expect((await getBalance(deps, owner.tenantId)).available).toBe(0);
    expect(await ledgerOf(deps.billing, owner.tenantId)).toEqual([]);
  });
});
