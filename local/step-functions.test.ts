import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BillingRunTally,
  listTenantsStep,
  MAX_LISTED_FAILURES,
} from '../lambdas/handlers/workflow/billing-run';
import {
  MONTHLY_BILLING_DEFINITION,
  MONTHLY_BILLING_STEPS,
} from '../lambdas/handlers/workflow/monthly-billing-definition';
import {
  createLocalStateMachine,
  ExecutionAbortedError,
  ExecutionError,
  loadDefinition,
  localFunctionArn,
  type TaskHandler,
  taskStates,
} from './step-functions';

/**
 * The monthly billing ASL on the local runner with the real paging step over an in-memory tenant
 * list and scripted charge/suspend steps: the state machine's own behaviour (periods, paging,
 * Map, Choice, Retry, Catch, abort), independent of the billing domain. The run against
 * DynamoDB Local with the real steps is test/integration/monthly-billing.test.ts.
 */
const FILE = join(__dirname, '..', MONTHLY_BILLING_DEFINITION);
const ARN = {
  list: localFunctionArn('list'),
  charge: localFunctionArn('charge'),
  suspend: localFunctionArn('suspend'),
};
const SUBSTITUTIONS = {
  ListTenantsFunctionArn: ARN.list,
  ChargeMonthlyFeeFunctionArn: ARN.charge,
  SuspendTenantFunctionArn: ARN.suspend,
};

type Charge = (tenantId: string, period: string) => unknown;

function billingMachine(options: {
  tenants: string[];
  pageSize?: number;
  charge?: Charge;
  suspend?: (tenantId: string) => void;
}) {
  const calls = { list: 0, charge: [] as string[], suspend: [] as string[], periods: new Set<string>() };
  const listStep = listTenantsStep({
    pageSize: options.pageSize ?? 2,
    tenants: {
      async listTenantIds(page) {
        const start = page.cursor ? Number(page.cursor) : 0;
        const end = start + page.limit;
        const items = options.tenants.slice(start, end);
        return end < options.tenants.length ? { items, nextCursor: String(end) } : { items };
      },
    },
  });
  const charge =
    options.charge ?? ((tenantId: string) => ({ tenantId, outcome: 'charged', entryId: `e-${tenantId}` }));
  const handlers: Record<string, TaskHandler> = {
    [ARN.list]: (input) => {
      calls.list++;
      return listStep(input);
    },
    [ARN.charge]: async (input) => {
      const { tenantId, period } = input as { tenantId: string; period: string };
      calls.charge.push(tenantId);
      calls.periods.add(period);
      const result = await charge(tenantId, period);
      return { period, ...(result as object) };
    },
    [ARN.suspend]: (input) => {
      const { tenantId, period } = input as { tenantId: string; period: string };
      calls.suspend.push(tenantId);
      options.suspend?.(tenantId);
      return { tenantId, period, outcome: 'suspended' };
    },
  };
  return {
    machine: createLocalStateMachine({ definitionFile: FILE, substitutions: SUBSTITUTIONS, handlers }),
    calls,
  };
}

const tenants = (n: number) => Array.from({ length: n }, (_, i) => `ten_${String(i).padStart(3, '0')}`);
const lambdaError = (name: string, message = name) => Object.assign(new Error(message), { name });

describe('the monthly billing ASL, run locally', () => {
  it('pages through every tenant, charges each once and returns the tally', async () => {
    const { machine, calls } = billingMachine({ tenants: tenants(5), pageSize: 2 });
    const tally = (await machine.run({ period: '2026-12' }).result) as BillingRunTally;
    expect(tally).toEqual({
      period: '2026-12',
      pages: 3,
      tenants: 5,
      charged: 5,
      alreadyCharged: 0,
      suspended: 0,
      failed: 0,
      failures: [],
    });
    expect([...calls.charge].sort()).toEqual(tenants(5));
    // Three pages, then once more to fold the last page's results.
    expect(calls.list).toBe(4);
  });

  it('ends at once, with an empty tally, when there is no tenant', async () => {
    const { machine, calls } = billingMachine({ tenants: [] });
    expect(await machine.run({ period: '2026-12' }).result).toMatchObject({ pages: 1, tenants: 0 });
    expect(calls.charge).toEqual([]);
  });

  it('takes the period from the schedule’s time, else from the execution’s start (UTC)', async () => {
    const scheduled = billingMachine({ tenants: tenants(1) });
    await scheduled.machine.run({ scheduledTime: '2027-01-01T00:05:00Z' }).result;
    expect([...scheduled.calls.periods]).toEqual(['2027-01']);

    const started = billingMachine({ tenants: tenants(1) });
    const before = new Date().toISOString().slice(0, 7);
    await started.machine.run({}).result;
    const after = new Date().toISOString().slice(0, 7);
    expect([before, after]).toContain([...started.calls.periods][0]);
  });

  it('refuses a period that is not YYYY-MM, before charging anyone', async () => {
    const { machine, calls } = billingMachine({ tenants: tenants(2) });
    const run = machine.run({ period: '2026-13' }).result;
    await expect(run).rejects.toBeInstanceOf(ExecutionError);
    await expect(run).rejects.toMatchObject({ cause: { name: 'BillingRun.InvalidInput' } });
    expect(calls.charge).toEqual([]);
  });

  it('suspends a tenant that cannot pay and carries on with the others', async () => {
    const { machine, calls } = billingMachine({
      tenants: tenants(3),
      charge: (tenantId) =>
        tenantId === 'ten_001'
          ? { tenantId, outcome: 'insufficient', available: 50, required: 200 }
          : { tenantId, outcome: tenantId === 'ten_002' ? 'already_charged' : 'charged', entryId: 'e' },
    });
    const tally = (await machine.run({ period: '2026-12' }).result) as BillingRunTally;
    expect(calls.suspend).toEqual(['ten_001']);
    expect(tally).toMatchObject({ tenants: 3, charged: 1, alreadyCharged: 1, suspended: 1, failed: 0 });
  });

  it('retries a throttled or failed Lambda invocation, then succeeds', async () => {
    let attempts = 0;
    const { machine } = billingMachine({
      tenants: tenants(1),
      charge: (tenantId) => {
        attempts++;
        if (attempts === 1) throw lambdaError('Lambda.TooManyRequestsException');
        if (attempts === 2) throw lambdaError('Lambda.ServiceException');
        return { tenantId, outcome: 'charged', entryId: 'e' };
      },
    });
    const tally = (await machine.run({ period: '2026-12' }, { retryIntervalMs: 0 })
      .result) as BillingRunTally;
    expect(attempts).toBe(3);
    expect(tally).toMatchObject({ charged: 1, failed: 0 });
  });

  it('records a tenant whose charge or suspension keeps failing, and still succeeds', async () => {
    const { machine, calls } = billingMachine({
      tenants: tenants(4),
      charge: (tenantId) => {
        if (tenantId === 'ten_000') throw lambdaError('TypeError', 'a bug');
        if (tenantId === 'ten_001') throw lambdaError('Lambda.ServiceException');
        if (tenantId === 'ten_002') return { tenantId, outcome: 'insufficient', available: 0, required: 200 };
        return { tenantId, outcome: 'charged', entryId: 'e' };
      },
      suspend: () => {
        throw lambdaError('ConditionalCheckFailedException');
      },
    });
    const tally = (await machine.run({ period: '2026-12' }, { retryIntervalMs: 0 })
      .result) as BillingRunTally;
    expect(tally).toMatchObject({ tenants: 4, charged: 1, suspended: 0, failed: 3 });
    expect(tally.failures).toEqual([
      { tenantId: 'ten_000', step: 'charge', error: 'TypeError' },
      { tenantId: 'ten_001', step: 'charge', error: 'Lambda.ServiceException' },
      { tenantId: 'ten_002', step: 'suspend', error: 'ConditionalCheckFailedException' },
    ]);
    // A bug is not retried; a service error is, up to the retrier's MaxAttempts (1 + 6 tries).
    expect(calls.charge.filter((t) => t === 'ten_000')).toHaveLength(1);
    expect(calls.charge.filter((t) => t === 'ten_001')).toHaveLength(7);
  });

  it('lists at most a hundred failed tenants, and counts them all', async () => {
    const { machine } = billingMachine({
      tenants: tenants(120),
      pageSize: 50,
      charge: () => {
        throw lambdaError('TypeError');
      },
    });
    const tally = (await machine.run({ period: '2026-12' }).result) as BillingRunTally;
    expect(tally.failed).toBe(120);
    expect(tally.failures).toHaveLength(MAX_LISTED_FAILURES);
  });

  it('charges at most ten tenants at a time (the Map’s MaxConcurrency)', async () => {
    let running = 0;
    let most = 0;
    const { machine } = billingMachine({
      tenants: tenants(30),
      pageSize: 30,
      charge: async (tenantId) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return { tenantId, outcome: 'charged', entryId: 'e' };
      },
    });
    await machine.run({ period: '2026-12' }).result;
    expect(most).toBe(10);
  });

  it('stops starting tasks when aborted, and lets the running ones finish', async () => {
    let finished = 0;
    let execution: ReturnType<ReturnType<typeof billingMachine>['machine']['run']> | undefined;
    const { machine, calls } = billingMachine({
      tenants: tenants(40),
      pageSize: 20,
      charge: async (tenantId) => {
        if (calls.charge.length === 12) execution?.abort();
        await new Promise((r) => setTimeout(r, 5));
        finished++;
        return { tenantId, outcome: 'charged', entryId: 'e' };
      },
    });
    execution = machine.run({ period: '2026-12' });
    await expect(execution.result).rejects.toBeInstanceOf(ExecutionAbortedError);
    await execution.idle();
    expect(calls.charge.length).toBeLessThan(40);
    expect(finished).toBe(calls.charge.length);
  });
});

describe('the local runner', () => {
  it('applies DefinitionSubstitutions and finds the Task states, nested ones included', () => {
    const definition = loadDefinition(FILE, SUBSTITUTIONS);
    const resources = Object.fromEntries([...taskStates(definition)].map(([name, s]) => [name, s.Resource]));
    expect(resources).toEqual({
      ListTenants: ARN.list,
      ChargeMonthlyFee: ARN.charge,
      SuspendTenant: ARN.suspend,
    });
    expect(Object.keys(SUBSTITUTIONS).sort()).toEqual(Object.keys(MONTHLY_BILLING_STEPS).sort());
  });

  it('refuses a placeholder without a substitution and a Task without a handler', () => {
    expect(() => loadDefinition(FILE, {})).toThrow(/no substitution for \$\{ListTenantsFunctionArn\}/);
    expect(() =>
      createLocalStateMachine({ definitionFile: FILE, substitutions: SUBSTITUTIONS, handlers: {} }),
    ).toThrow(/Task state ListTenants: no local handler/);
  });

  it('hands a Lambda’s error to the machine as Lambda does, and enforces the payload limit', async () => {
    const file = join(tmpdir(), `probe-${process.pid}.asl.json`);
    writeFileSync(
      file,
      JSON.stringify({
        StartAt: 'Call',
        TimeoutSeconds: 10,
        States: {
          Call: {
            Type: 'Task',
            // A DefinitionSubstitutions placeholder, not a template literal.
            // biome-ignore lint/suspicious/noTemplateCurlyInString: ASL placeholder syntax
            Resource: '${Fn}',
            TimeoutSeconds: 5,
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Pass', End: true },
        },
      }),
    );
    const run = (handler: TaskHandler) =>
      createLocalStateMachine({
        definitionFile: file,
        substitutions: { Fn: ARN.list },
        handlers: { [ARN.list]: handler },
      }).run({}).result;

    const caught = (await run(() => {
      throw lambdaError('RangeError', 'too far');
    })) as { error: { Error: string; Cause: string } };
    expect(caught.error.Error).toBe('RangeError');
    expect(JSON.parse(caught.error.Cause)).toMatchObject({
      errorType: 'RangeError',
      errorMessage: 'too far',
    });

    const tooBig = (await run(() => ({ blob: 'x'.repeat(300_000) }))) as { error: { Error: string } };
    expect(tooBig.error.Error).toBe('States.DataLimitExceeded');

    // Undefined fields vanish on the way out, as JSON serialisation drops them.
    expect(await run(() => ({ kept: 1, dropped: undefined }))).toEqual({ kept: 1 });
  });
});
