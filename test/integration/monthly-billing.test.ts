import { DynamoAgentRepository } from '../../lambdas/adapters/dynamodb/agent-repository';
import { DynamoLocationRepository } from '../../lambdas/adapters/dynamodb/location-repository';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { billingDeps, localEventBus } from '../../lambdas/composition/billing';
import { inTenantScope } from '../../lambdas/composition/tenant-scope';
import { createAgent, runLifecycleCommand } from '../../lambdas/domain/agents/agents';
import { agentCreateBody } from '../../lambdas/domain/agents/schemas';
import { credit, suspendTenant } from '../../lambdas/domain/billing/billing';
import { dayOf } from '../../lambdas/domain/billing/calendar';
import { DEFAULT_COST_TABLE } from '../../lambdas/domain/billing/costs';
import type { LedgerEntry } from '../../lambdas/domain/billing/ports';
import type { DomainEvent } from '../../lambdas/domain/events/events';
import type { Principal } from '../../lambdas/domain/shared/principal';
import type { BillingRunTally } from '../../lambdas/handlers/workflow/billing-run';
import type { MonthlyBillingStep } from '../../lambdas/handlers/workflow/monthly-billing-definition';
import { monthlyBillingMachine } from '../../local/monthly-billing-machine';
import { ExecutionAbortedError, type LocalStateMachine, type TaskHandler } from '../../local/step-functions';
import { dynamoEndpoint, freshTable } from '../support/dynamodb';
import { seedTenant } from '../support/tenants';

/**
 * The monthly fee run as local mode runs it: statemachines/monthly-billing.asl.json (and the page
 * machine each page runs in) executed by aws-local-stepfunctions, its Tasks mapped to the three
 * step handlers, on DynamoDB Local, with
 * tenants registered and funded through the tenant and billing code. The step handlers read their
 * configuration at import, so the whole file shares one table and the tests run as one story,
 * each with its own period.
 */
const FEE = DEFAULT_COST_TABLE.monthlyFee;
const ACTOR = 'test:monthly-billing';

let tenantRepository: DynamoTenantRepository;
let agentDeps: { agents: DynamoAgentRepository; locations: DynamoLocationRepository };
/** Faults the tests inject into a step, by step; none by default. */
const faults: Partial<
  Record<MonthlyBillingStep, (input: { tenantId?: string }, call: () => Promise<unknown>) => unknown>
> = {};
let machine: LocalStateMachine;

interface Seeded {
  readonly actor: Principal;
  readonly funded: number;
  readonly agentIds: string[];
}
/** Can pay the fee (one of them exactly, which leaves nothing). */
let payers: Seeded[];
/** Cannot pay: 50 tokens, nothing at all; each has two running agents. */
let nonPayers: Seeded[];
/** Already suspended before any run: not billed. */
let suspendedBefore: Seeded;

const registerTenant = (): Promise<Principal> => seedTenant(tenantRepository, 'Billed');

async function seed(tokens: number, agents = 0): Promise<Seeded> {
  const actor = await registerTenant();
  if (tokens > 0) {
    await inTenantScope(actor.tenantId, () =>
      credit(billingDeps(), actor.tenantId, tokens, { type: 'grant' }, `seed-${actor.tenantId}`, ACTOR),
    );
  }
  const agentIds: string[] = [];
  for (let i = 0; i < agents; i++) {
    const agent = await createAgent(
      agentDeps,
      actor,
      agentCreateBody().parse({
        name: `Agent ${i}`,
        businessType: 'dental',
        model: { provider: 'scripted', modelId: 'scripted-v1' },
      }),
    );
    await runLifecycleCommand(agentDeps, actor, agent.id, 'start');
    agentIds.push(agent.id);
  }
  return { actor, funded: tokens, agentIds };
}

async function ledgerOf(tenantId: string): Promise<LedgerEntry[]> {
  const days = {
    from: dayOf(new Date(Date.now() - 86_400_000)),
    to: dayOf(new Date(Date.now() + 86_400_000)),
  };
  const entries: LedgerEntry[] = [];
  let cursor: string | undefined;
  do {
    const from = cursor;
    const page = await inTenantScope(tenantId, () =>
      billingDeps().billing.listLedger(tenantId, days, { limit: 100, ...(from ? { cursor: from } : {}) }),
    );
    entries.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return entries;
}

const feesOf = async (tenantId: string, period: string) =>
  (await ledgerOf(tenantId)).filter((e) => e.type === 'monthly_fee' && e.period === period);

async function available(tenantId: string): Promise<number> {
  return (await inTenantScope(tenantId, () => billingDeps().billing.getBalance(tenantId)))?.available ?? 0;
}

/** Every ledger entry of the tenant adds up to its balance. */
async function expectLedgerMatchesBalance(tenantId: string): Promise<void> {
  const sum = (await ledgerOf(tenantId)).reduce((total, entry) => total + entry.amount, 0);
  expect(sum).toBe(await available(tenantId));
}

function eventsOf(type: DomainEvent['type']): DomainEvent[] {
  return localEventBus.recent.filter((event) => event.type === type);
}

async function run(input: Record<string, string>): Promise<BillingRunTally> {
  return (await machine.run(input, { retryIntervalMs: 0 }).result) as BillingRunTally;
}

beforeAll(async () => {
  const table = await freshTable();
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    DYNAMODB_ENDPOINT: dynamoEndpoint(),
    // Three tenants a page, so a run reads several pages (and a page is interrupted below); two
    // pages per execution, so a run continues as a new execution.
    TENANT_PAGE_SIZE: '3',
    PAGES_PER_EXECUTION: '2',
  });
  delete process.env.EVENT_BUS_NAME;
  delete process.env.TOKEN_COSTS;
  tenantRepository = new DynamoTenantRepository(table.client, table.tableName);
  agentDeps = {
    agents: new DynamoAgentRepository(table.client, table.tableName),
    locations: new DynamoLocationRepository(table.client, table.tableName),
  };
  machine = await monthlyBillingMachine({
    wrap:
      (step, handler): TaskHandler =>
      (input) => {
        const fault = faults[step];
        const call = async () => handler(input);
        return fault ? fault(input as { tenantId?: string }, call) : call();
      },
  });

  payers = [];
  for (const tokens of [1000, 1000, 450, FEE, 5000]) payers.push(await seed(tokens));
  nonPayers = [await seed(50, 2), await seed(0, 2)];
  suspendedBefore = await seed(10, 1);
  const suspended = suspendedBefore.actor.tenantId;
  await inTenantScope(suspended, () => suspendTenant(billingDeps(), suspended, 'manual_review'));
}, 60_000);

beforeEach(() => {
  localEventBus.recent.length = 0;
  for (const step of Object.keys(faults) as MonthlyBillingStep[]) delete faults[step];
});

describe('the monthly billing run (local Step Functions on DynamoDB Local)', () => {
  const PERIOD = '2031-01';

  it('charges every active tenant that can pay once and suspends the ones that cannot', async () => {
    const tally = await run({ period: PERIOD });

    expect(tally).toMatchObject({
      period: PERIOD,
      tenants: payers.length + nonPayers.length,
      charged: payers.length,
      alreadyCharged: 0,
      suspended: nonPayers.length,
      failed: 0,
      failures: [],
    });
    expect(tally.pages).toBeGreaterThan(1);
    for (const payer of payers) {
      const fees = await feesOf(payer.actor.tenantId, PERIOD);
      expect(fees).toEqual([
        expect.objectContaining({ amount: -FEE, charged: FEE, idempotencyKey: `monthly_fee:${PERIOD}` }),
      ]);
      expect(await available(payer.actor.tenantId)).toBe(payer.funded - FEE);
      expect(await tenantRepository.get(payer.actor.tenantId)).toMatchObject({ status: 'active' });
      await expectLedgerMatchesBalance(payer.actor.tenantId);
    }
    for (const nonPayer of nonPayers) {
      expect(await feesOf(nonPayer.actor.tenantId, PERIOD)).toEqual([]);
      expect(await available(nonPayer.actor.tenantId)).toBe(nonPayer.funded);
      expect(await tenantRepository.get(nonPayer.actor.tenantId)).toMatchObject({ status: 'suspended' });
      for (const agentId of nonPayer.agentIds) {
        expect(await agentDeps.agents.get(nonPayer.actor.tenantId, agentId)).toMatchObject({
          status: 'paused',
        });
      }
    }
    // Suspended before the run: not listed, not billed.
    expect(await ledgerOf(suspendedBefore.actor.tenantId)).toEqual([
      expect.objectContaining({ type: 'grant', amount: 10 }),
    ]);

    expect(eventsOf('tokens.debited').map((e) => e.detail)).toEqual(
      expect.arrayContaining(
        payers.map((p) =>
          expect.objectContaining({ tenantId: p.actor.tenantId, amount: FEE, entryType: 'monthly_fee' }),
        ),
      ),
    );
    expect(eventsOf('tokens.debited')).toHaveLength(payers.length);
    expect(eventsOf('tenant.suspended').map((e) => e.detail)).toEqual(
      expect.arrayContaining(
        nonPayers.map((n) => ({ tenantId: n.actor.tenantId, reason: 'monthly_fee_unpaid', period: PERIOD })),
      ),
    );
    expect(eventsOf('tenant.suspended')).toHaveLength(nonPayers.length);
    // The tenant that had exactly the fee is left with nothing: below its low-balance threshold.
    const exact = payers.find((p) => p.funded === FEE);
    expect(eventsOf('balance.low').map((e) => e.detail.tenantId)).toContain(exact?.actor.tenantId);
  });

  it('run again for the same period, charges nobody a second time', async () => {
    const tally = await run({ period: PERIOD });

    // The suspended tenants are no longer active, so they are not listed again.
    expect(tally).toMatchObject({
      tenants: payers.length,
      charged: 0,
      alreadyCharged: payers.length,
      suspended: 0,
    });
    for (const payer of payers) {
      expect(await feesOf(payer.actor.tenantId, PERIOD)).toHaveLength(1);
      expect(await available(payer.actor.tenantId)).toBe(payer.funded - FEE);
    }
    expect(eventsOf('tokens.debited')).toEqual([]);
    expect(eventsOf('tenant.suspended')).toEqual([]);
  });

  it('stopped half-way and run again, charges every tenant exactly once', async () => {
    const period = '2031-02';
    const payersNow = payers.filter((p) => p.funded - FEE >= FEE);
    let execution: ReturnType<LocalStateMachine['run']> | undefined;
    let completed = 0;
    faults['charge-monthly-fee'] = async (_input, call) => {
      const output = await call();
      // Killed as soon as the first charge has gone through: the rest of its page is in flight.
      if (++completed === 1) execution?.abort();
      return output;
    };
    execution = machine.run({ period }, { retryIntervalMs: 0 });
    await expect(execution.result).rejects.toBeInstanceOf(ExecutionAbortedError);
    await execution.idle();

    const chargedBefore = (
      await Promise.all(payers.map(async (p) => (await feesOf(p.actor.tenantId, period)).length))
    ).reduce((a, b) => a + b, 0);
    expect(chargedBefore).toBeGreaterThan(0);
    expect(chargedBefore).toBeLessThan(payers.length);

    delete faults['charge-monthly-fee'];
    const tally = await run({ period });
    expect(tally.charged + tally.alreadyCharged).toBe(payersNow.length);
    expect(tally.alreadyCharged).toBeGreaterThan(0);
    for (const payer of payers) {
      const fees = await feesOf(payer.actor.tenantId, period);
      const canPay = payersNow.includes(payer);
      expect(fees).toHaveLength(canPay ? 1 : 0);
      expect(await available(payer.actor.tenantId)).toBe(payer.funded - FEE - (canPay ? FEE : 0));
      await expectLedgerMatchesBalance(payer.actor.tenantId);
    }
    // Those that could pay January but not February are suspended now.
    const short = payers.filter((p) => !payersNow.includes(p));
    expect(short.length).toBeGreaterThan(0);
    expect(tally.suspended).toBe(short.length);
    expect(eventsOf('tokens.debited')).toHaveLength(payersNow.length);
  });

  it('retries a step that failed after charging, without charging twice', async () => {
    const period = '2031-03';
    const survivors = payers.filter((p) => p.funded - 2 * FEE >= FEE);
    const victim = survivors[0]?.actor.tenantId;
    let failedOnce = false;
    faults['charge-monthly-fee'] = async (input, call) => {
      const output = await call();
      if (input.tenantId === victim && !failedOnce) {
        failedOnce = true;
        // The fee was written, then the invocation was lost: Step Functions retries it.
        throw Object.assign(new Error('connection reset'), { name: 'Lambda.ServiceException' });
      }
      return output;
    };
    const tally = await run({ period });

    expect(failedOnce).toBe(true);
    expect(tally).toMatchObject({ failed: 0, charged: survivors.length - 1, alreadyCharged: 1 });
    expect(await feesOf(victim as string, period)).toHaveLength(1);
  });

  it('records a tenant whose charge keeps failing without failing the run; the next run charges it', async () => {
    const period = '2031-04';
    const active = payers.filter((p) => p.funded - 3 * FEE >= FEE);
    const broken = active[0]?.actor.tenantId as string;
    faults['charge-monthly-fee'] = (input, call) => {
      if (input.tenantId === broken) throw new TypeError('a bug in the charge step');
      return call();
    };
    const first = await run({ period });
    expect(first).toMatchObject({
      failed: 1,
      failures: [{ tenantId: broken, step: 'charge', error: 'TypeError' }],
      charged: active.length - 1,
    });
    expect(await feesOf(broken, period)).toEqual([]);

    delete faults['charge-monthly-fee'];
    const second = await run({ period });
    expect(second).toMatchObject({ failed: 0, charged: 1, alreadyCharged: active.length - 1 });
    expect(await feesOf(broken, period)).toHaveLength(1);
  });

  it('bills the month of the schedule’s time when no period is given', async () => {
    const tally = await run({ scheduledTime: '2031-05-01T00:05:00Z' });
    expect(tally.period).toBe('2031-05');
    const richest = payers.find((p) => p.funded === 5000) as Seeded;
    expect(await feesOf(richest.actor.tenantId, '2031-05')).toHaveLength(1);
  });
});

describe('the tenant listing the run pages through (access pattern 18)', () => {
  async function listAll(status?: 'active'): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await tenantRepository.listTenantIds(
        { limit: 2, ...(cursor ? { cursor } : {}) },
        status ? { status } : {},
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      ids.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  }

  it('lists every tenant in creation order, or the active ones only, a page at a time', async () => {
    const everyone = [...payers, ...nonPayers, suspendedBefore].map((s) => s.actor.tenantId);
    expect(await listAll()).toEqual([...everyone].sort());
    const statuses = await Promise.all(everyone.map(async (id) => (await tenantRepository.get(id))?.status));
    expect(await listAll('active')).toEqual(everyone.filter((_, i) => statuses[i] === 'active').sort());
    expect(statuses).toContain('suspended');
  });

  it('refuses a cursor from another listing', async () => {
    const page = await tenantRepository.listTenantIds({ limit: 1 }, { status: 'active' });
    expect(page.nextCursor).toBeDefined();
    await expect(tenantRepository.listTenantIds({ limit: 1, cursor: page.nextCursor })).rejects.toMatchObject(
      {
        statusCode: 400,
      },
    );
  });
});
