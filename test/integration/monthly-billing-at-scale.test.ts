import { billingDeps } from '../../lambdas/composition/billing';
import { inTenantScope } from '../../lambdas/composition/tenant-scope';
import { credit } from '../../lambdas/domain/billing/billing';
import { DEFAULT_COST_TABLE } from '../../lambdas/domain/billing/costs';
import type { BillingRunTally } from '../../lambdas/handlers/workflow/billing-run';
import type { MonthlyBillingStep } from '../../lambdas/handlers/workflow/monthly-billing-definition';
import { LOCAL_MONTHLY_BILLING_ARNS, monthlyBillingMachine } from '../../local/monthly-billing-machine';
import {
  ExecutionAbortedError,
  type LocalExecution,
  type LocalStateMachine,
  LocalStepFunctions,
  type TaskHandler,
} from '../../local/step-functions';
import { dynamoEndpoint, freshTable } from '../support/dynamodb';
import { ledgerOf } from '../support/ledger';
import { inParallel, seedTenantsInBulk } from '../support/tenants';

/**
 * The monthly fee run over 2,500 tenants — past the ~2,200 at which a single execution mapping
 * over every tenant ran out of history (25,000 events) — from the ASL files, on the local runner
 * and DynamoDB Local, with the real step handlers: the run pages through the tenants 100 at a
 * time, charges each page in its own execution of the page machine and continues as a new
 * execution every 10 pages. Every execution's history is counted as Step Functions would write it
 * (the local runner's event log, each Task attempt's scheduled/started/ended events added: see
 * `historyEventsOf`).
 */
const TENANTS = 2_500;
const PAGE_SIZE = 100;
const PAGES_PER_EXECUTION = 10;
/** Every 50th tenant has no tokens: the run suspends it. */
const UNFUNDED_EVERY = 50;
const FUNDED_WITH = 1_000;
const FEE = DEFAULT_COST_TABLE.monthlyFee;
/** Step Functions' limit on one execution's history. */
const HISTORY_LIMIT = 25_000;
/** A run execution: 15 events a page, at most 17 of its own (see local/step-functions.test.ts). */
const RUN_EXECUTION_BOUND = 15 * PAGES_PER_EXECUTION + 17;
/** A page execution: 11 events per tenant that pays, 14 per tenant suspended, and 6. */
const PAGE_EXECUTION_BOUND = 14 * PAGE_SIZE + 6;

let tenantIds: string[];
let funded: string[];
let unfunded: string[];
let service: LocalStepFunctions;
let machine: LocalStateMachine;
/** A fault the test injects into the charge step; none by default. */
let chargeFault: ((call: () => Promise<unknown>) => Promise<unknown>) | undefined;
const timings: Record<string, number> = {};

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[label] = Math.round(performance.now() - started);
  }
}

/** Every tenant's available balance, by id. */
/** The tenant's fee entries for the period; its ledger adds up to its balance. */
async function feesOf(tenantId: string, period: string) {
  const entries = await inTenantScope(tenantId, () => ledgerOf(billingDeps().billing, tenantId));
  const sum = entries.reduce((total, entry) => total + entry.amount, 0);
  expect(sum).toBe(
    (await inTenantScope(tenantId, () => billingDeps().billing.getBalance(tenantId)))?.available,
  );
  return entries.filter((e) => e.type === 'monthly_fee' && e.period === period);
}

async function balances(ids: readonly string[]): Promise<Map<string, number>> {
  const byId = new Map<string, number>();
  await inParallel(ids, 8, async (id) => {
    byId.set(id, (await inTenantScope(id, () => billingDeps().billing.getBalance(id)))?.available ?? 0);
  });
  return byId;
}

interface ExecutionFigures {
  readonly runs: number[];
  readonly pages: number[];
}

/** The history sizes of the executions started since `from` (an index into the service's list). */
async function historySince(from: number): Promise<ExecutionFigures> {
  const records = service.executions.slice(from);
  const sizes = await Promise.all(
    records.map(async (r) => ({ machine: r.stateMachineArn, events: await r.execution.historyEvents })),
  );
  return {
    runs: sizes.filter((s) => s.machine === LOCAL_MONTHLY_BILLING_ARNS.run).map((s) => s.events),
    pages: sizes.filter((s) => s.machine === LOCAL_MONTHLY_BILLING_ARNS.page).map((s) => s.events),
  };
}

function run(period: string): { execution: LocalExecution; from: number } {
  const from = service.executions.length;
  return { execution: machine.run({ period }, { retryIntervalMs: 0 }), from };
}

beforeAll(async () => {
  const table = await freshTable();
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    DYNAMODB_ENDPOINT: dynamoEndpoint(),
    TENANT_PAGE_SIZE: String(PAGE_SIZE),
    PAGES_PER_EXECUTION: String(PAGES_PER_EXECUTION),
  });
  delete process.env.EVENT_BUS_NAME;
  delete process.env.TOKEN_COSTS;

  tenantIds = await timed('seed tenants (BatchWriteItem)', () =>
    seedTenantsInBulk(table.client, table.tableName, TENANTS),
  );
  unfunded = tenantIds.filter((_, i) => i % UNFUNDED_EVERY === 0);
  funded = tenantIds.filter((_, i) => i % UNFUNDED_EVERY !== 0);
  // Eight at a time: more does not go faster on two cores, and keeps the other worker's tests waiting.
  await timed('fund tenants (credit, 8 at a time)', () =>
    inParallel(funded, 8, (id) =>
      inTenantScope(id, () =>
        credit(billingDeps(), id, FUNDED_WITH, { type: 'grant' }, `seed-${id}`, 'test:at-scale'),
      ),
    ),
  );

  service = new LocalStepFunctions();
  machine = await monthlyBillingMachine({
    service,
    wrap:
      (step: MonthlyBillingStep, handler): TaskHandler =>
      (input) => {
        const call = async () => handler(input);
        return step === 'charge-monthly-fee' && chargeFault ? chargeFault(call) : call();
      },
  });
}, 240_000);

afterEach(() => {
  chargeFault = undefined;
});

afterAll(() => {
  // The figures the README's billing section quotes (npm test prints them).
  console.log(`Monthly billing at scale, ${TENANTS} tenants: ${JSON.stringify(timings)} ms`);
});

describe(`the monthly billing run over ${TENANTS} tenants (DynamoDB Local)`, () => {
  const PERIOD = '2032-01';

  it('charges each tenant exactly once, suspends those that cannot pay, and no execution’s history grows with the tenants', async () => {
    const { execution, from } = run(PERIOD);
    const tally = (await timed('first run', () => execution.result)) as BillingRunTally;

    expect(tally).toMatchObject({
      period: PERIOD,
      // The listing reads one more, empty, page: the last full page had a next key.
      pages: TENANTS / PAGE_SIZE + 1,
      tenants: TENANTS,
      charged: funded.length,
      alreadyCharged: 0,
      suspended: unfunded.length,
      failed: 0,
    });
    const after = await balances(tenantIds);
    for (const id of funded) expect(after.get(id)).toBe(FUNDED_WITH - FEE);
    for (const id of unfunded) expect(after.get(id)).toBe(0);
    for (const id of unfunded) {
      expect((await inTenantScope(id, () => billingDeps().tenants.get(id)))?.status).toBe('suspended');
    }
    // The ledger of a sample: one fee entry for the period, summing to the balance.
    for (const id of funded.filter((_, i) => i % 250 === 0)) {
      expect(await feesOf(id, PERIOD)).toHaveLength(1);
    }

    const history = await historySince(from);
    // 25 pages, one execution each; 10 pages per run execution: three of them.
    expect(history.pages).toHaveLength(TENANTS / PAGE_SIZE);
    expect(history.runs).toHaveLength(Math.ceil(TENANTS / PAGE_SIZE / PAGES_PER_EXECUTION));
    for (const events of history.runs) expect(events).toBeLessThanOrEqual(RUN_EXECUTION_BOUND);
    for (const events of history.pages) expect(events).toBeLessThanOrEqual(PAGE_EXECUTION_BOUND);
    // 11 events per tenant that paid, 14 per tenant suspended, 6 per page execution, exactly.
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect(sum(history.pages)).toBe(11 * funded.length + 14 * unfunded.length + 6 * (TENANTS / PAGE_SIZE));
    // All of it in one execution, as before, would not have fitted.
    const total = sum([...history.runs, ...history.pages]);
    expect(total).toBeGreaterThan(HISTORY_LIMIT);
    expect(Math.max(...history.runs, ...history.pages)).toBeLessThan(HISTORY_LIMIT / 10);
    console.log(
      `History events per execution: run ${JSON.stringify(history.runs)}, pages ${Math.min(...history.pages)}–${Math.max(...history.pages)}; all executions together ${total}`,
    );
  }, 300_000);

  it('run again for the same period, charges nobody', async () => {
    const { execution } = run(PERIOD);
    const tally = (await timed('re-run', () => execution.result)) as BillingRunTally;

    // The suspended tenants are no longer listed.
    expect(tally).toMatchObject({
      tenants: funded.length,
      charged: 0,
      alreadyCharged: funded.length,
      suspended: 0,
      failed: 0,
    });
    const after = await balances(funded);
    for (const id of funded) expect(after.get(id)).toBe(FUNDED_WITH - FEE);
  }, 300_000);

  it('killed half-way and started again, charges each tenant exactly once', async () => {
    const period = '2032-02';
    let completed = 0;
    const killAfter = Math.floor(funded.length / 2);
    const first = run(period);
    chargeFault = async (call) => {
      const output = await call();
      // Stopped (StopExecution on the first execution) once half the tenants are charged: the
      // run is in its second execution by then, waiting on a page's execution.
      if (++completed === killAfter) first.execution.abort();
      return output;
    };
    await expect(first.execution.result).rejects.toBeInstanceOf(ExecutionAbortedError);
    await first.execution.idle();
    const stopped = service.executions.slice(first.from);
    expect(stopped.filter((r) => r.stateMachineArn === LOCAL_MONTHLY_BILLING_ARNS.run).length).toBe(2);
    expect(stopped.every((r) => r.execution.status === 'ABORTED' || r.execution.status === 'SUCCEEDED')).toBe(
      true,
    );

    const halfWay = await balances(funded);
    const chargedBefore = funded.filter((id) => halfWay.get(id) === FUNDED_WITH - 2 * FEE).length;
    expect(chargedBefore).toBeGreaterThanOrEqual(killAfter);
    expect(chargedBefore).toBeLessThan(funded.length);
    expect(
      funded.every((id) => [FUNDED_WITH - FEE, FUNDED_WITH - 2 * FEE].includes(halfWay.get(id) ?? -1)),
    ).toBe(true);

    chargeFault = undefined;
    const again = run(period);
    const tally = (await timed('restart after the kill', () => again.execution.result)) as BillingRunTally;
    expect(tally).toMatchObject({
      tenants: funded.length,
      charged: funded.length - chargedBefore,
      alreadyCharged: chargedBefore,
      failed: 0,
    });
    const after = await balances(funded);
    for (const id of funded) expect(after.get(id)).toBe(FUNDED_WITH - 2 * FEE);
    for (const id of funded.filter((_, i) => i % 250 === 0)) {
      expect(await feesOf(id, period)).toHaveLength(1);
    }
  }, 300_000);
});
