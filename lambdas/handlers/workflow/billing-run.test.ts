import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  listTenantsStep,
  MAX_PAGES_PER_EXECUTION,
  MAX_TENANT_PAGE_SIZE,
  runExecutionName,
} from './billing-run';
import { MONTHLY_BILLING_DEFINITION, MONTHLY_BILLING_PAGE_DEFINITION } from './monthly-billing-definition';

interface State {
  Type: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[];
  ItemProcessor?: { States: Record<string, State> };
}
const ROOT = join(__dirname, '../../..');
const statesOf = (file: string) =>
  (JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as { States: Record<string, State> }).States;
/** Retries a Task may make at most (each retrier counts its own; Step Functions' default is 3). */
const retriesOf = (state: State | undefined) =>
  (state?.Retry ?? []).reduce((total, retrier) => total + (retrier.MaxAttempts ?? 3), 0);
const HISTORY_LIMIT = 25_000;

describe('the billing run’s bounds', () => {
  it('keep a run execution under 25,000 history events at the most pages per execution, every retry used', () => {
    const run = statesOf(MONTHLY_BILLING_DEFINITION);
    // A page: ListTenants (entered, 3 per Lambda attempt, exited), AnyTenantsLeft (2), ChargePage
    // (entered, 4 per .sync attempt, exited), ContinueHereOrAnew (2).
    const perPage =
      2 + 3 * (1 + retriesOf(run.ListTenants)) + 2 + 2 + 4 * (1 + retriesOf(run.ChargePage)) + 2;
    const own = 17 + 4 * retriesOf(run.ContinueAsNew);
    expect(perPage * MAX_PAGES_PER_EXECUTION + own).toBeLessThan(HISTORY_LIMIT);
  });

  it('keep a page execution under 25,000 history events at the largest page, every retry used', () => {
    const page = statesOf(MONTHLY_BILLING_PAGE_DEFINITION);
    const inMap = page.ChargeTenants?.ItemProcessor?.States ?? {};
    // A tenant suspended: iteration started/succeeded (2), ChargeMonthlyFee, CanPay (2),
    // SuspendTenant; each Task entered/exited (2) and 3 events per attempt.
    const perTenant =
      2 + 2 + 3 * (1 + retriesOf(inMap.ChargeMonthlyFee)) + 2 + 2 + 3 * (1 + retriesOf(inMap.SuspendTenant));
    expect(perTenant).toBe(80);
    expect(perTenant * MAX_TENANT_PAGE_SIZE + 6).toBeLessThan(HISTORY_LIMIT);
  });
});

describe('runExecutionName', () => {
  it('is the same for the same run and suffix, different for another run, and a valid execution name', () => {
    const runId = `arn:aws:states:eu-west-1:123456789012:execution:agent-platform-prod-monthly-billing:${'x'.repeat(80)}`;
    const name = runExecutionName('2026-12', runId, 'from-p123456');
    expect(runExecutionName('2026-12', runId, 'from-p123456')).toBe(name);
    expect(runExecutionName('2026-12', `${runId}y`, 'from-p123456')).not.toBe(name);
    expect(name).toMatch(/^2026-12-[0-9a-f]{24}-from-p123456$/);
    expect(name.length).toBeLessThanOrEqual(80);
  });
});

describe('listTenantsStep', () => {
  const tenants = Array.from({ length: 7 }, (_, i) => `ten_${i}`);
  const step = listTenantsStep({
    pageSize: 2,
    pagesPerExecution: 2,
    tenants: {
      async listTenantIds(page) {
        const start = page.cursor ? Number(page.cursor) : 0;
        const end = start + page.limit;
        const items = tenants.slice(start, end);
        return end < tenants.length ? { items, nextCursor: String(end) } : { items };
      },
    },
  });

  it('asks to continue as a new execution after its pages per execution, when more follow', async () => {
    const first = await step({ period: '2026-12', runId: 'run-1' });
    expect(first).toMatchObject({ tenantIds: ['ten_0', 'ten_1'], pagesInExecution: 1, continueAsNew: false });
    const second = await step({ ...first, lastPage: { results: [] } });
    expect(second).toMatchObject({ pagesInExecution: 2, continueAsNew: true, hasMore: true });
    expect(second.pageExecutionName).toBe(runExecutionName('2026-12', 'run-1', 'p2'));
    expect(second.continuationName).toBe(runExecutionName('2026-12', 'run-1', 'from-p3'));
    // The new execution starts without pagesInExecution, and folds the page handed over.
    const third = await step({
      period: '2026-12',
      runId: 'run-1',
      cursor: second.cursor,
      hasMore: true,
      tally: second.tally,
      lastPage: { results: [{ tenantId: 'ten_2', outcome: 'charged' }] },
    });
    expect(third).toMatchObject({ tenantIds: ['ten_4', 'ten_5'], pagesInExecution: 1, continueAsNew: false });
    expect(third.tally).toMatchObject({ pages: 3, tenants: 1, charged: 1 });
    const last = await step({ ...third, lastPage: { results: [] } });
    // The last page: nothing follows, so no continuation however many pages were read.
    expect(last).toMatchObject({
      tenantIds: ['ten_6'],
      hasMore: false,
      pagesInExecution: 2,
      continueAsNew: false,
    });
  });

  it('refuses a state without the run’s id', async () => {
    await expect(step({ period: '2026-12' })).rejects.toMatchObject({ name: 'BillingRun.InvalidInput' });
  });
});
