/**
 * The ledger under contention, on DynamoDB Local: many writers on one tenant's balance at once.
 * Every writer plans from the balance it read and writes only if nobody changed it since
 * (compare-and-set); losers re-plan. A short balance is a 402, never a conflict.
 */
import { DynamoAgentRepository } from '../../lambdas/adapters/dynamodb/agent-repository';
import { DynamoBillingRepository } from '../../lambdas/adapters/dynamodb/billing-repository';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { InProcessEventBus } from '../../lambdas/adapters/events/in-process-bus';
import { type BillingDeps, credit, debit, reserve, settle } from '../../lambdas/domain/billing/billing';
import { DEFAULT_COST_TABLE } from '../../lambdas/domain/billing/costs';
import { InsufficientBalanceError } from '../../lambdas/domain/billing/errors';
import type { LedgerEntry } from '../../lambdas/domain/billing/ports';
import { freshTable } from '../support/dynamodb';
import { ledgerOf as readLedger } from '../support/ledger';
import { seedTenant } from '../support/tenants';

let table: Awaited<ReturnType<typeof freshTable>>;
let repository: DynamoBillingRepository;
let bus: InProcessEventBus;
let deps: BillingDeps;

beforeAll(async () => {
  table = await freshTable();
  repository = new DynamoBillingRepository(table.client, table.tableName);
  bus = new InProcessEventBus();
  deps = {
    billing: repository,
    tenants: new DynamoTenantRepository(table.client, table.tableName),
    agents: new DynamoAgentRepository(table.client, table.tableName),
    events: bus,
    costs: DEFAULT_COST_TABLE,
    now: () => new Date(),
  };
});

async function fundedTenant(tokens: number): Promise<string> {
  const { tenantId } = await seedTenant(new DynamoTenantRepository(table.client, table.tableName), 'Busy');
  await credit(deps, tenantId, tokens, { type: 'grant' }, 'seed', 'system:test');
  return tenantId;
}

/** Runs `count` tasks with at most `width` in flight; settles every one. */
async function bounded<T>(count: number, width: number, task: (i: number) => Promise<T>) {
  const outcomes: PromiseSettledResult<T>[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        try {
          outcomes[i] = { status: 'fulfilled', value: await task(i) };
        } catch (reason) {
          outcomes[i] = { status: 'rejected', reason };
        }
      }
    }),
  );
  return outcomes;
}

const ledgerOf = (tenantId: string) => readLedger(repository, tenantId);

describe('1,000 concurrent debits of 1 token against a balance of 500', () => {
  it('lets exactly 500 through, refuses 500 with 402, and the ledger sums to the balance', async () => {
    const tenantId = await fundedTenant(500);
    // Five stores, as if five Lambda containers took the requests: within one, changes to a tenant
    // queue; between them, they race on DynamoDB and only the compare-and-set keeps them apart.
    // Processes hammering one balance nonstop can keep an unlucky writer losing for seconds
    // (the bench shows the tail); here the point is exactness, so none is allowed to give up.
    const processes = Array.from(
      { length: 5 },
      () => new DynamoBillingRepository(table.client, table.tableName, { maxWaitMs: 120_000 }),
    );
    const outcomes = await bounded(1000, 50, (i) =>
      debit(
        { ...deps, billing: processes[i % processes.length] as DynamoBillingRepository },
        tenantId,
        1,
        { action: 'llmCall', agentId: 'agt_load' },
        `load-${i}`,
        'system:test',
      ),
    );

    const succeeded = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(succeeded).toHaveLength(500);
    expect(refused).toHaveLength(500);
    for (const { reason } of refused) {
      expect(reason).toBeInstanceOf(InsufficientBalanceError);
      expect(reason).toMatchObject({ statusCode: 402, details: { available: 0, required: 1 } });
    }
    expect(await repository.getBalance(tenantId)).toMatchObject({ available: 0, reserved: 0 });

    const entries = await ledgerOf(tenantId);
    expect(entries).toHaveLength(501);
    expect(entries.reduce((sum, entry) => sum + entry.amount, 0)).toBe(0);
    // Numbered 1..501 without a gap, each entry's balance the previous one's plus its amount.
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    for (const [i, entry] of entries.entries()) {
      expect(entry.availableAfter).toBe((entries[i - 1]?.availableAfter ?? 0) + entry.amount);
    }
    expect(new Set(entries.map((e) => e.idempotencyKey)).size).toBe(501);
    const debited = bus.recent.filter((e) => e.type === 'tokens.debited' && e.detail.tenantId === tenantId);
    expect(debited).toHaveLength(500);
    // Contention shows up as retries (lost compare-and-sets), never as refusals.
    const retries = processes.reduce((sum, p) => sum + p.contention.stale + p.contention.conflicts, 0);
    expect(retries).toBeGreaterThan(0);
  }, 180_000);
});

describe('reserve → settle under contention', () => {
  it('holds and settles 100 concurrent operations against 60 tokens: 60 settle, 40 are refused', async () => {
    const tenantId = await fundedTenant(60);
    const outcomes = await bounded(100, 25, async (i) => {
      const held = await reserve(deps, tenantId, 1, { action: 'sms' }, `op-${i}`, 'system:test');
      return settle(deps, tenantId, held.id, 1, `op-${i}-done`, 'system:test');
    });
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(60);
    expect(
      outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof InsufficientBalanceError),
    ).toBe(true);
    expect(await repository.getBalance(tenantId)).toMatchObject({ available: 0, reserved: 0 });
    const entries = await ledgerOf(tenantId);
    expect(entries.reduce((sum, entry) => sum + entry.amount, 0)).toBe(0);
    expect(entries.filter((e) => e.type === 'settlement').reduce((sum, e) => sum + (e.charged ?? 0), 0)).toBe(
      60,
    );
  }, 120_000);

  it('charges once when one key arrives 30 times at once while others spend the same balance', async () => {
    const tenantId = await fundedTenant(100);
    const outcomes = await bounded(60, 60, (i) =>
      i % 2 === 0
        ? debit(deps, tenantId, 2, { action: 'email' }, 'the-same-key', 'system:test')
        : debit(deps, tenantId, 1, { action: 'email' }, `other-${i}`, 'system:test'),
    );
    const same = outcomes.filter((_, i) => i % 2 === 0);
    expect(same.every((o) => o.status === 'fulfilled')).toBe(true);
    const ids = new Set(same.map((o) => (o as PromiseFulfilledResult<LedgerEntry>).value.id));
    expect(ids.size).toBe(1);
    // 100 − 2 (the repeated key, once) − 30 × 1.
    expect(await repository.getBalance(tenantId)).toMatchObject({ available: 68 });
  }, 60_000);
});
