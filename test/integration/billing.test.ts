import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAgentRepository } from '../../lambdas/adapters/dynamodb/agent-repository';
import { DynamoBillingRepository } from '../../lambdas/adapters/dynamodb/billing-repository';
import { DynamoLocationRepository } from '../../lambdas/adapters/dynamodb/location-repository';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { InProcessEventBus } from '../../lambdas/adapters/events/in-process-bus';
import { createAgent, runLifecycleCommand } from '../../lambdas/domain/agents/agents';
import { agentCreateBody } from '../../lambdas/domain/agents/schemas';
import {
  type BillingDeps,
  chargeMonthlyFee,
  credit,
  debit,
  getBalance,
  getUsage,
  release,
  releaseExpiredReservations,
  reserve,
  settle,
  suspendTenant,
} from '../../lambdas/domain/billing/billing';
import { dayOf, periodOf } from '../../lambdas/domain/billing/calendar';
import { DEFAULT_COST_TABLE } from '../../lambdas/domain/billing/costs';
import { InsufficientBalanceError, TenantSuspendedError } from '../../lambdas/domain/billing/errors';
import type { LedgerEntry } from '../../lambdas/domain/billing/ports';
import { ConflictError, NotFoundError, ValidationError } from '../../lambdas/domain/shared/errors';
import { newId } from '../../lambdas/domain/shared/ids';
import type { Principal } from '../../lambdas/domain/shared/principal';
import { freshTable } from '../support/dynamodb';
import { ledgerOf as readLedger } from '../support/ledger';
import { seedTenant } from '../support/tenants';

let table: Awaited<ReturnType<typeof freshTable>>;
let tenants: DynamoTenantRepository;
let agents: DynamoAgentRepository;
let locations: DynamoLocationRepository;
let repository: DynamoBillingRepository;
let bus: InProcessEventBus;
/** The billing clock; tests move it to make holds run out. */
let clock: Date;
let deps: BillingDeps;

beforeAll(async () => {
  table = await freshTable();
  tenants = new DynamoTenantRepository(table.client, table.tableName);
  agents = new DynamoAgentRepository(table.client, table.tableName);
  locations = new DynamoLocationRepository(table.client, table.tableName);
  repository = new DynamoBillingRepository(table.client, table.tableName);
});

beforeEach(() => {
  bus = new InProcessEventBus();
  clock = new Date();
  deps = {
    billing: repository,
    tenants,
    agents,
    events: bus,
    costs: DEFAULT_COST_TABLE,
    now: () => new Date(clock),
  };
});

/** A registered tenant (tenant item + owner), as registration writes it. */
const newTenant = (into: DynamoTenantRepository = tenants): Promise<Principal> => seedTenant(into, 'T');

async function funded(tokens: number): Promise<Principal> {
  const actor = await newTenant();
  await credit(deps, actor.tenantId, tokens, { type: 'grant' }, `seed-${actor.tenantId}`, actor.userId);
  bus.recent.length = 0;
  return actor;
}

const ledgerOf = (tenantId: string, store = repository) => readLedger(store, tenantId);

/**
 * The invariants of an exact ledger: the entries sum to the balance, the reservations' entries to
 * what is reserved, the balance's change counter counts every entry, and each compare-and-set
 * entry (credits, fees) is numbered by that counter and says the balance it left.
 */
async function expectExactLedger(
  tenantId: string,
  store = repository,
  on: Pick<typeof table, 'client' | 'tableName'> = table,
): Promise<LedgerEntry[]> {
  const entries = await ledgerOf(tenantId, store);
  const balance = await store.getBalance(tenantId);
  const seq = (
    await table.client.send(
      new GetCommand({ TableName: on.tableName, Key: { pk: `T#${tenantId}`, sk: 'BALANCE' } }),
    )
  ).Item?.seq;
  expect(seq ?? 0).toBe(entries.length);
  let available = 0;
  let reserved = 0;
  for (const [i, entry] of entries.entries()) {
    available += entry.amount;
    if (entry.type === 'reservation') reserved -= entry.amount;
    else if (entry.reservationId !== undefined) reserved -= entry.amount + (entry.charged ?? 0);
    if (entry.seq !== undefined) {
      // Sequential here, so time order is commit order.
      expect(entry.seq).toBe(i + 1);
      expect(entry.availableAfter).toBe(available);
      expect(entry.reservedAfter).toBe(reserved);
    } else {
      expect(entry.availableAfter).toBeUndefined();
    }
  }
  expect(balance?.available ?? 0).toBe(available);
  expect(balance?.reserved ?? 0).toBe(reserved);
  return entries;
}

const eventsOf = (type: string) => bus.recent.filter((event) => event.type === type);

describe('reserve, settle and release', () => {
  it('holds tokens, then settles for less and gives back the difference', async () => {
    const actor = await funded(100);
    const agentId = newId('agent');
    const reservation = await reserve(
      deps,
      actor.tenantId,
      30,
      { action: 'call', agentId },
      'call-1',
      actor.userId,
    );
    expect(reservation).toMatchObject({ amount: 30, status: 'held', action: 'call', agentId });
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 70, reserved: 30 });

    const settlement = await settle(deps, actor.tenantId, reservation.id, 12, 'call-1-done', actor.userId, {
      usd: 0.04,
    });
    expect(settlement).toMatchObject({
      type: 'settlement',
      amount: 18,
      charged: 12,
      reservationId: reservation.id,
      agentId,
      action: 'call',
      usd: 0.04,
    });
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 88, reserved: 0 });
    expect(await repository.getReservation(actor.tenantId, reservation.id)).toMatchObject({
      status: 'settled',
      charged: 12,
    });
    expect(eventsOf('tokens.debited').map((e) => e.detail)).toEqual([
      expect.objectContaining({
        amount: 12,
        entryId: settlement.id,
        agentId,
        action: 'call',
      }),
    ]);
    const entries = await expectExactLedger(actor.tenantId);
    expect(entries.map((e) => e.type)).toEqual(['grant', 'reservation', 'settlement']);
  });

  it('releases a reservation in full, and refuses to close it twice', async () => {
    const actor = await funded(50);
    const reservation = await reserve(deps, actor.tenantId, 50, { action: 'sms' }, 'sms-1', actor.userId);
    await expect(
      reserve(deps, actor.tenantId, 1, { action: 'sms' }, 'sms-2', actor.userId),
    ).rejects.toMatchObject({
      statusCode: 402,
      code: 'INSUFFICIENT_BALANCE',
      details: { available: 0, required: 1 },
    });
    const released = await release(deps, actor.tenantId, reservation.id, 'sms-1-failed', actor.userId);
    expect(released).toMatchObject({ type: 'release', amount: 50 });
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 50, reserved: 0 });
    await expect(
      settle(deps, actor.tenantId, reservation.id, 1, 'sms-1-late', actor.userId),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      release(deps, actor.tenantId, reservation.id, 'sms-1-again', actor.userId),
    ).rejects.toMatchObject({ details: { status: 'released' } });
    // The same key as the release that happened: the first result, not an error.
    expect(await release(deps, actor.tenantId, reservation.id, 'sms-1-failed', actor.userId)).toEqual(
      released,
    );
    expect(eventsOf('tokens.debited')).toHaveLength(0);
    await expectExactLedger(actor.tenantId);
  });

  it('refuses a settlement above the reservation, an unknown reservation and bad amounts', async () => {
    const actor = await funded(10);
    const reservation = await reserve(deps, actor.tenantId, 5, { action: 'email' }, 'e-1', actor.userId);
    await expect(
      settle(deps, actor.tenantId, reservation.id, 6, 'e-1-done', actor.userId),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      settle(deps, actor.tenantId, newId('reservation'), 1, 'e-x', actor.userId),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      reserve(deps, actor.tenantId, 0, { action: 'email' }, 'e-2', actor.userId),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      reserve(deps, actor.tenantId, 1.5, { action: 'email' }, 'e-3', actor.userId),
    ).rejects.toBeInstanceOf(ValidationError);
    // Another tenant cannot see, let alone settle, this reservation.
    const other = await funded(10);
    await expect(
      settle(deps, other.tenantId, reservation.id, 1, 'e-1-hijack', other.userId),
    ).rejects.toBeInstanceOf(NotFoundError);
    // A settlement of 0 (nothing happened after all) returns everything and charges nothing.
    expect(await settle(deps, actor.tenantId, reservation.id, 0, 'e-1-done', actor.userId)).toMatchObject({
      amount: 5,
      charged: 0,
    });
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 10, reserved: 0 });
    expect(eventsOf('tokens.debited')).toHaveLength(0);
  });
});

describe('idempotency', () => {
  it('charges once for a key sent twice in sequence, and returns the first result', async () => {
    const actor = await funded(10);
    const first = await debit(deps, actor.tenantId, 3, { action: 'llmCall' }, 'turn-1', actor.userId);
    const again = await debit(deps, actor.tenantId, 3, { action: 'llmCall' }, 'turn-1', actor.userId);
    expect(again).toEqual(first);
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 7 });
    expect(eventsOf('tokens.debited')).toHaveLength(1);
  });

  it('charges once for a key sent 20 times at once', async () => {
    const actor = await funded(100);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        reserve(deps, actor.tenantId, 7, { action: 'whatsappConversation' }, 'wa-1', actor.userId),
      ),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 93, reserved: 7 });
    const credits = await Promise.all(
      Array.from({ length: 10 }, () =>
        credit(deps, actor.tenantId, 5, { type: 'purchase', reference: 'order-9' }, 'buy-1', actor.userId),
      ),
    );
    expect(credits.filter((c) => !c.replayed)).toHaveLength(1);
    expect(new Set(credits.map((c) => c.entry.id)).size).toBe(1);
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 98, reserved: 7 });
    expect(eventsOf('tokens.credited')).toHaveLength(1);
    await expectExactLedger(actor.tenantId);
  });

  it('refuses a key reused with other parameters, and keeps keys apart per operation', async () => {
    const actor = await funded(10);
    await debit(deps, actor.tenantId, 1, { action: 'sms' }, 'k-1', actor.userId);
    await expect(
      debit(deps, actor.tenantId, 2, { action: 'sms' }, 'k-1', actor.userId),
    ).rejects.toMatchObject({
      statusCode: 409,
      details: { operation: 'debit' },
    });
    // The same string as a reservation's key is another key.
    await reserve(deps, actor.tenantId, 1, { action: 'sms' }, 'k-1', actor.userId);
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 8, reserved: 1 });
  });

  it('retries a refused request under the same key once the tokens are there', async () => {
    const actor = await funded(1);
    await expect(
      debit(deps, actor.tenantId, 5, { action: 'call' }, 'call-9', actor.userId),
    ).rejects.toBeInstanceOf(InsufficientBalanceError);
    expect(await ledgerOf(actor.tenantId)).toHaveLength(1);
    await credit(deps, actor.tenantId, 10, { type: 'purchase' }, 'buy-9', actor.userId);
    expect(await debit(deps, actor.tenantId, 5, { action: 'call' }, 'call-9', actor.userId)).toMatchObject({
      amount: -5,
    });
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 6 });
  });
});

describe('events', () => {
  it('says balance.low once, when the balance crosses below the threshold', async () => {
    const actor = await funded(25);
    for (let i = 0; i < 10; i++) {
      await debit(deps, actor.tenantId, 2, { action: 'sms' }, `low-${i}`, actor.userId);
    }
    // 25 → 23 → 21 → 19 (crossed below 20) → … → 5
    const low = eventsOf('balance.low');
    expect(low.map((e) => e.detail)).toEqual([{ tenantId: actor.tenantId, available: 19, threshold: 20 }]);
    await credit(deps, actor.tenantId, 100, { type: 'purchase' }, 'refill', actor.userId);
    await debit(deps, actor.tenantId, 100, { action: 'call' }, 'big', actor.userId);
    expect(eventsOf('balance.low')).toHaveLength(2);
  });

  it('keeps the change when the bus is down, and reports the loss', async () => {
    const actor = await funded(10);
    const lost: string[] = [];
    const down: BillingDeps = {
      ...deps,
      events: { publish: async () => Promise.reject(new Error('bus down')) },
      log: { error: (message) => lost.push(message) },
    };
    await debit(down, actor.tenantId, 1, { action: 'sms' }, 'down-1', actor.userId);
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 9 });
    expect(lost).toEqual(['Domain events not published']);
  });
});

describe('usage', () => {
  it('totals by agent, action and day over the range, and pages the entries', async () => {
    const actor = await funded(1000);
    const [a, b] = [newId('agent'), newId('agent')];
    await debit(
      deps,
      actor.tenantId,
      10,
      { action: 'whatsappConversation', agentId: a },
      'u-1',
      actor.userId,
    );
    await debit(deps, actor.tenantId, 1, { action: 'sms', agentId: a }, 'u-2', actor.userId);
    await debit(deps, actor.tenantId, 50, { action: 'call', agentId: b }, 'u-3', actor.userId);
    const held = await reserve(deps, actor.tenantId, 5, { action: 'email', agentId: b }, 'u-4', actor.userId);
    await settle(deps, actor.tenantId, held.id, 1, 'u-4-done', actor.userId);
    await chargeMonthlyFee(deps, actor.tenantId, periodOf(clock), 'system:test');

    const report = await getUsage(deps, actor.tenantId, { limit: 3 });
    expect(report.totals).toEqual({
      charged: 262,
      credited: 1000,
      byAgent: { [a]: 11, [b]: 51 },
      byAction: { whatsappConversation: 10, sms: 1, call: 50, email: 1, monthlyFee: 200 },
      byDay: [{ day: dayOf(clock), charged: 262, credited: 1000 }],
    });
    expect(report.items.map((e) => e.type)).toEqual(['monthly_fee', 'settlement', 'reservation']);
    const next = await getUsage(deps, actor.tenantId, { limit: 10, cursor: report.nextCursor as string });
    expect(next.items).toHaveLength(4);
    expect(next.nextCursor).toBeUndefined();
    expect(next.totals).toEqual(report.totals);
    // Another range: no entries, no totals; a cursor from this range is refused there.
    const yesterday = dayOf(new Date(clock.getTime() - 86_400_000));
    const before = await getUsage(deps, actor.tenantId, { limit: 10, from: yesterday, to: yesterday });
    expect(before).toMatchObject({ items: [], totals: { charged: 0, credited: 0, byDay: [] } });
    await expect(
      getUsage(deps, actor.tenantId, {
        limit: 10,
        from: yesterday,
        to: yesterday,
        cursor: report.nextCursor as string,
      }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses inverted, malformed and over-long ranges', async () => {
    const actor = await newTenant();
    for (const range of [
      { from: '2026-05-02', to: '2026-05-01' },
      { from: '2026-02-30', to: '2026-03-01' },
      { from: '2024-01-01', to: '2025-12-31' },
    ]) {
      await expect(getUsage(deps, actor.tenantId, { limit: 10, ...range })).rejects.toBeInstanceOf(
        ValidationError,
      );
    }
    expect(
      await getUsage(deps, actor.tenantId, { limit: 10, from: '2025-01-01', to: '2026-01-01' }),
    ).toMatchObject({
      items: [],
    });
  });
});

describe('expired reservations', () => {
  it('are released by housekeeping once their hold ends; settled ones are left alone', async () => {
    // The held-reservation index is platform-wide: a table of its own keeps other tests' holds out.
    const own = await freshTable();
    const store = new DynamoBillingRepository(own.client, own.tableName);
    const ownTenants = new DynamoTenantRepository(own.client, own.tableName);
    const local: BillingDeps = { ...deps, billing: store, tenants: ownTenants };
    const actor = await newTenant(ownTenants);
    await credit(local, actor.tenantId, 100, { type: 'grant' }, 'seed', actor.userId);
    const start = new Date(clock);
    const forgotten = await reserve(local, actor.tenantId, 20, { action: 'call' }, 'h-1', actor.userId);
    const settled = await reserve(local, actor.tenantId, 30, { action: 'call' }, 'h-2', actor.userId);
    await settle(local, actor.tenantId, settled.id, 30, 'h-2-done', actor.userId);
    const longer = await reserve(
      local,
      actor.tenantId,
      10,
      { action: 'call', holdSeconds: 3 * 3600 },
      'h-3',
      actor.userId,
    );

    // Before the hold ends: nothing to do.
    const early = await releaseExpiredReservations(local, new Date(start.getTime() + 60_000));
    expect(early).toMatchObject({ released: 0, complete: true });

    const later = new Date(start.getTime() + 16 * 60_000);
    const swept = await releaseExpiredReservations(local, later);
    expect(swept).toMatchObject({ released: 1, failed: 0, complete: true });
    expect(await store.getReservation(actor.tenantId, forgotten.id)).toMatchObject({
      status: 'released',
    });
    expect(await store.getReservation(actor.tenantId, longer.id)).toMatchObject({ status: 'held' });
    expect(await store.getBalance(actor.tenantId)).toMatchObject({ available: 60, reserved: 10 });
    expect(await releaseExpiredReservations(local, later)).toMatchObject({ released: 0 });

    // Hours later the mark has moved on, and the longer hold is found in its own hour.
    const muchLater = new Date(start.getTime() + 4 * 3600_000);
    expect(await releaseExpiredReservations(local, muchLater)).toMatchObject({ released: 1, complete: true });
    expect(await store.getSweepMark()).toBe(muchLater.toISOString().slice(0, 13));
    expect(await store.getBalance(actor.tenantId)).toMatchObject({ available: 70, reserved: 0 });
    const entries = await expectExactLedger(actor.tenantId, store, own);
    expect(entries.filter((e) => e.type === 'release').map((e) => e.actor)).toEqual([
      'system:housekeeping',
      'system:housekeeping',
    ]);
  });
});

describe('monthly fee, suspension and reactivation', () => {
  const config = (name: string) =>
    agentCreateBody().parse({
      name,
      businessType: 'dental',
      model: { provider: 'scripted', modelId: 'scripted-v1' },
    });

  it('charges the fee once per period, and nothing when the balance is short', async () => {
    const actor = await funded(450);
    const first = await chargeMonthlyFee(deps, actor.tenantId, '2026-11', 'system:test');
    const second = await chargeMonthlyFee(deps, actor.tenantId, '2026-11', 'system:test');
    expect(first).toMatchObject({
      outcome: 'charged',
      entry: { amount: -200, period: '2026-11', charged: 200 },
    });
    expect(second).toEqual({
      outcome: 'already_charged',
      entry: first.outcome === 'charged' ? first.entry : undefined,
    });
    expect(await chargeMonthlyFee(deps, actor.tenantId, '2026-12', 'system:test')).toMatchObject({
      outcome: 'charged',
    });
    expect(await chargeMonthlyFee(deps, actor.tenantId, '2027-01', 'system:test')).toEqual({
      outcome: 'insufficient',
      available: 50,
      required: 200,
    });
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 50 });
    const entries = await expectExactLedger(actor.tenantId);
    expect(entries.map((e) => e.idempotencyKey)).toEqual([
      `seed-${actor.tenantId}`,
      'monthly_fee:2026-11',
      'monthly_fee:2026-12',
    ]);
    expect(eventsOf('tokens.debited')).toHaveLength(2);
    await expect(chargeMonthlyFee(deps, actor.tenantId, '2026-13', 'x')).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('suspends a tenant that cannot pay, pauses its agents, blocks costed calls; a top-up reactivates it', async () => {
    const actor = await funded(150);
    const agentDeps = { agents, locations };
    const active = await Promise.all(
      ['One', 'Two'].map((name) => createAgent(agentDeps, actor, config(name))),
    );
    for (const agent of active) await runLifecycleCommand(agentDeps, actor, agent.id, 'start');
    const pausedByUser = await createAgent(agentDeps, actor, config('Mine'));
    await runLifecycleCommand(agentDeps, actor, pausedByUser.id, 'start');
    await runLifecycleCommand(agentDeps, actor, pausedByUser.id, 'pause');
    const period = periodOf(clock);

    expect(await chargeMonthlyFee(deps, actor.tenantId, period, 'system:run')).toMatchObject({
      outcome: 'insufficient',
    });
    await suspendTenant(deps, actor.tenantId, 'monthly_fee_unpaid', period);
    await suspendTenant(deps, actor.tenantId, 'monthly_fee_unpaid', period);

    expect(await tenants.get(actor.tenantId)).toMatchObject({ status: 'suspended', version: 2 });
    for (const agent of active)
      expect(await agents.get(actor.tenantId, agent.id)).toMatchObject({ status: 'paused' });
    expect(eventsOf('tenant.suspended').map((e) => e.detail)).toEqual([
      { tenantId: actor.tenantId, reason: 'monthly_fee_unpaid', period },
    ]);
    expect(await getBalance(deps, actor.tenantId)).toMatchObject({
      available: 150,
      tenantStatus: 'suspended',
    });
    const refused = reserve(deps, actor.tenantId, 1, { action: 'sms' }, 'while-suspended', actor.userId);
    await expect(refused).rejects.toBeInstanceOf(TenantSuspendedError);
    await expect(refused).rejects.toMatchObject({
      statusCode: 402,
      details: { available: 150, required: 1 },
    });
    await expect(
      debit(deps, actor.tenantId, 1, { action: 'sms' }, 'while-suspended', actor.userId),
    ).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });

    // Not enough to pay the fee: still suspended.
    const small = await credit(deps, actor.tenantId, 20, { type: 'purchase' }, 'top-1', actor.userId);
    expect(small).toMatchObject({
      reactivated: false,
      tenantStatus: 'suspended',
      balance: { available: 170 },
    });

    const enough = await credit(deps, actor.tenantId, 100, { type: 'purchase' }, 'top-2', actor.userId);
    expect(enough).toMatchObject({ reactivated: true, tenantStatus: 'active', balance: { available: 70 } });
    expect(await tenants.get(actor.tenantId)).toMatchObject({ status: 'active' });
    for (const agent of active)
      expect(await agents.get(actor.tenantId, agent.id)).toMatchObject({ status: 'active' });
    // The agent its user had paused stays paused.
    expect(await agents.get(actor.tenantId, pausedByUser.id)).toMatchObject({ status: 'paused' });
    expect(eventsOf('tenant.reactivated').map((e) => e.detail)).toEqual([
      { tenantId: actor.tenantId, available: 70 },
    ]);
    // The period's fee was charged on reactivation, so the run's re-run finds it paid.
    expect(await chargeMonthlyFee(deps, actor.tenantId, period, 'system:run')).toMatchObject({
      outcome: 'already_charged',
    });
    expect(await repository.getSuspension(actor.tenantId)).toBeUndefined();
    await reserve(deps, actor.tenantId, 1, { action: 'sms' }, 'after', actor.userId);
    await expectExactLedger(actor.tenantId);
  });

  it('charges instead of suspending when a top-up landed after the run found the balance short', async () => {
    const actor = await funded(10);
    const period = periodOf(clock);
    expect(await chargeMonthlyFee(deps, actor.tenantId, period, 'system:run')).toMatchObject({
      outcome: 'insufficient',
    });
    await credit(deps, actor.tenantId, 500, { type: 'purchase' }, 'race-top-up', actor.userId);
    await suspendTenant(deps, actor.tenantId, 'monthly_fee_unpaid', period);
    expect(await tenants.get(actor.tenantId)).toMatchObject({ status: 'active' });
    expect(await repository.getBalance(actor.tenantId)).toMatchObject({ available: 310 });
    expect(eventsOf('tenant.suspended')).toHaveLength(0);
  });

  it('does not suspend an unknown tenant', async () => {
    await expect(
      suspendTenant(deps, newId('tenant'), 'monthly_fee_unpaid', '2026-11'),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});
