/**
 * The ledger under contention, on DynamoDB Local: many writers on one tenant's balance at once.
 * Costed operations (debit, reserve, settle, release) are conditional deltas: each adds its amount
 * on the condition that the balance stays at or above zero, so concurrent writers never make each
 * other retry. Credits and fees are compare-and-set on the balance's change counter, which every
 * change moves. A short balance is a 402, never a conflict.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
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

/** The balance's change counter: one per ledger entry, whoever wrote it. */
async function changeCounter(tenantId: string): Promise<unknown> {
  const { Item } = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: { pk: `T#${tenantId}`, sk: 'BALANCE' },
      ConsistentRead: true,
    }),
  );
  return Item?.seq;
}

describe('1,000 concurrent debits of 1 token against a balance of 500, from 10 processes', () => {
  it('lets exactly 500 through, refuses 500 with 402, loses no race, and the ledger sums to the balance', async () => {
    const tenantId = await fundedTenant(500);
    // Ten stores, as if ten Lambda containers took the requests (a call centre's concurrent calls).
    const processes = Array.from(
      { length: 10 },
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
    expect(await changeCounter(tenantId)).toBe(501);
    expect(new Set(entries.map((e) => e.idempotencyKey)).size).toBe(501);
    const debited = bus.recent.filter((e) => e.type === 'tokens.debited' && e.detail.tenantId === tenantId);
    expect(debited).toHaveLength(500);
    // No read-compare-set: nobody lost a race and planned again. A debit is sent again only when
    // its condition failed at commit because the balance really ran out (then it is refused).
    const counters = processes.map((p) => p.contention);
    expect(counters.reduce((sum, c) => sum + c.stale, 0)).toBe(0);
    const sent = counters.reduce((sum, c) => sum + c.attempts, 0);
    const replanned = counters.reduce((sum, c) => sum + c.replanned, 0);
    expect(sent).toBe(500 + replanned);
  }, 180_000);

  it('stays exact with credits (compare-and-set) racing the debits (deltas) of 10 processes', async () => {
    const tenantId = await fundedTenant(100);
    const processes = Array.from(
      { length: 10 },
      () => new DynamoBillingRepository(table.client, table.tableName, { maxWaitMs: 120_000 }),
    );
    const outcomes = await bounded<unknown>(400, 40, (i) => {
      const on = { ...deps, billing: processes[i % processes.length] as DynamoBillingRepository };
      return i % 20 === 0
        ? credit(on, tenantId, 10, { type: 'grant' }, `top-up-${i}`, 'system:test')
        : debit(on, tenantId, 1, { action: 'sms' }, `sms-${i}`, 'system:test');
    });
    const done = outcomes.filter((o) => o.status === 'fulfilled').length;
    expect(
      outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof InsufficientBalanceError),
    ).toBe(true);
    const entries = await ledgerOf(tenantId);
    expect(entries).toHaveLength(done + 1);
    const balance = await repository.getBalance(tenantId);
    expect(balance?.available).toBe(entries.reduce((sum, entry) => sum + entry.amount, 0));
    expect(balance?.available).toBeGreaterThanOrEqual(0);
    expect(await changeCounter(tenantId)).toBe(entries.length);
    // Credits, written by compare-and-set, still say where they stand and the balance they left.
    for (const entry of entries.filter((e) => e.type === 'grant')) {
      expect(entry.seq).toEqual(expect.any(Number));
      expect(entry.availableAfter).toEqual(expect.any(Number));
    }
    expect(entries.filter((e) => e.action === 'sms').every((e) => e.seq === undefined)).toBe(true);
  }, 180_000);
});

describe("a process's last knowledge of the balance (debits plan from it without a read)", () => {
  const processes = () => [0, 1].map(() => new DynamoBillingRepository(table.client, table.tableName));

  it('refuses from a fresh read when another process spent the balance, and spends what another credited', async () => {
    const tenantId = await fundedTenant(10);
    const [a, b] = processes() as [DynamoBillingRepository, DynamoBillingRepository];
    const on = (billing: DynamoBillingRepository) => ({ ...deps, billing });
    await debit(on(a), tenantId, 1, { action: 'sms' }, 'a-1', 'system:test'); // a knows: 9 left
    await debit(on(b), tenantId, 9, { action: 'sms' }, 'b-1', 'system:test');
    await expect(debit(on(a), tenantId, 1, { action: 'sms' }, 'a-2', 'system:test')).rejects.toMatchObject({
      statusCode: 402,
      details: { available: 0, required: 1 },
    });
    // a now knows 0; b's credit makes a's next debit go through all the same.
    await credit(on(b), tenantId, 5, { type: 'grant' }, 'b-top-up', 'system:test');
    await debit(on(a), tenantId, 3, { action: 'sms' }, 'a-3', 'system:test');
    expect(await repository.getBalance(tenantId)).toMatchObject({ available: 2 });
    // A repeated key replays its first result, hint or not.
    const again = await debit(on(a), tenantId, 1, { action: 'sms' }, 'a-1', 'system:test');
    expect(again.amount).toBe(-1);
    expect(await repository.getBalance(tenantId)).toMatchObject({ available: 2 });
    const entries = await ledgerOf(tenantId);
    expect(entries.reduce((sum, entry) => sum + entry.amount, 0)).toBe(2);
    expect(await changeCounter(tenantId)).toBe(entries.length);
  });

  it('sends balance.low exactly once when 10 processes debit across the threshold', async () => {
    const tenantId = await fundedTenant(150);
    const many = Array.from({ length: 10 }, () => new DynamoBillingRepository(table.client, table.tableName));
    const outcomes = await bounded(200, 40, (i) =>
      debit(
        { ...deps, billing: many[i % many.length] as DynamoBillingRepository },
        tenantId,
        1,
        { action: 'sms' },
        `low-${i}`,
        'system:test',
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(150);
    const low = bus.recent.filter((e) => e.type === 'balance.low' && e.detail.tenantId === tenantId);
    expect(low).toHaveLength(1);
    expect(low[0]?.detail).toMatchObject({ threshold: 20 });
    expect(await repository.getBalance(tenantId)).toMatchObject({ available: 0 });
  }, 60_000);
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

describe("one process's lane for a busy tenant", () => {
  /** The table client, counting transactions in flight and the most ever side by side. */
  function countingClient() {
    const seen = { inFlight: 0, most: 0, creditOverlapped: false, creditRunning: false };
    const client = {
      send: (async (command: { constructor: { name: string }; input?: unknown }) => {
        if (command.constructor.name !== 'TransactWriteCommand') return table.client.send(command as never);
        const isCredit = JSON.stringify(command.input).includes('"seq = :seq"');
        if (isCredit ? seen.inFlight > 0 : seen.creditRunning) seen.creditOverlapped = true;
        seen.inFlight++;
        if (isCredit) seen.creditRunning = true;
        seen.most = Math.max(seen.most, seen.inFlight);
        try {
          return await table.client.send(command as never);
        } finally {
          seen.inFlight--;
          if (isCredit) seen.creditRunning = false;
        }
      }) as typeof table.client.send,
    };
    return { client, seen };
  }

  it('sends deltas side by side up to its width, credits alone, and stays exact', async () => {
    const tenantId = await fundedTenant(1000);
    const { client, seen } = countingClient();
    const store = new DynamoBillingRepository(client, table.tableName, { laneWidth: 4 });
    const on = { ...deps, billing: store };
    const outcomes = await bounded<unknown>(60, 20, (i) =>
      i % 15 === 7
        ? credit(on, tenantId, 10, { type: 'grant' }, `lane-top-up-${i}`, 'system:test')
        : debit(on, tenantId, 1, { action: 'sms' }, `lane-${i}`, 'system:test'),
    );

    expect(outcomes.every((o) => o.status === 'fulfilled')).toBe(true);
    // Not one at a time (the queue a busy tenant's debits waited in), and never past the width.
    expect(seen.most).toBe(4);
    expect(seen.creditOverlapped).toBe(false);
    expect(store.contention.stale).toBe(0);
    expect(await repository.getBalance(tenantId)).toMatchObject({ available: 1000 - 56 + 40 });
    const entries = await ledgerOf(tenantId);
    expect(entries).toHaveLength(61);
    expect(await changeCounter(tenantId)).toBe(61);
  }, 60_000);
});
