import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APPROVAL_DEFINITION,
  APPROVAL_STEP_FUNCTION,
  WAIT_FOR_DECISION_STATE,
} from '../lambdas/handlers/workflow/approval-definition';
import {
  type BillingRunTally,
  listTenantsStep,
  MAX_LISTED_FAILURES,
} from '../lambdas/handlers/workflow/billing-run';
import {
  MONTHLY_BILLING_DEFINITION,
  MONTHLY_BILLING_PAGE_DEFINITION,
  MONTHLY_BILLING_STEPS,
} from '../lambdas/handlers/workflow/monthly-billing-definition';
import { functionOf, loadDefinition, taskStates, waitsForTaskToken } from './asl-definition';
import { LOCAL_MONTHLY_BILLING_ARNS, localMonthlyBilling } from './monthly-billing-machine';
import {
  createLocalStateMachine,
  ExecutionAbortedError,
  ExecutionError,
  LocalStepFunctions,
  localFunctionArn,
  type TaskHandler,
} from './step-functions';

/**
 * The monthly billing ASL files (the run and its page machine) on the local runner with the real
 * paging step over an in-memory tenant list and scripted charge/suspend steps: the state
 * machines' own behaviour (periods, paging, a page execution per page, continuing as a new
 * execution, Map, Choice, Retry, Catch, abort), independent of the billing domain. The run
 * against DynamoDB Local with the real steps is test/integration/monthly-billing.test.ts.
 */
const FILE = join(__dirname, '..', MONTHLY_BILLING_DEFINITION);
const PAGE_FILE = join(__dirname, '..', MONTHLY_BILLING_PAGE_DEFINITION);
const ARN = {
  list: localFunctionArn('monthly-billing-list-tenants'),
  charge: localFunctionArn('monthly-billing-charge-monthly-fee'),
  suspend: localFunctionArn('monthly-billing-suspend-tenant'),
};
const SUBSTITUTIONS = {
  ListTenantsFunctionArn: ARN.list,
  ChargeMonthlyFeeFunctionArn: ARN.charge,
  SuspendTenantFunctionArn: ARN.suspend,
  ChargePageStateMachineArn: LOCAL_MONTHLY_BILLING_ARNS.page,
};

type Charge = (tenantId: string, period: string) => unknown;

function billingMachine(options: {
  tenants: string[];
  pageSize?: number;
  pagesPerExecution?: number;
  /** Tenants the listing's filter drops after the Limit, as DynamoDB's FilterExpression does: pages can be empty. */
  filteredOut?: string[];
  charge?: Charge;
  suspend?: (tenantId: string) => void;
}) {
  const calls = { list: 0, charge: [] as string[], suspend: [] as string[], periods: new Set<string>() };
  const listStep = listTenantsStep({
    pageSize: options.pageSize ?? 2,
    pagesPerExecution: options.pagesPerExecution ?? 100,
    tenants: {
      async listTenantIds(page) {
        const start = page.cursor ? Number(page.cursor) : 0;
        const end = start + page.limit;
        const items = options.tenants.slice(start, end).filter((t) => !options.filteredOut?.includes(t));
        return end < options.tenants.length ? { items, nextCursor: String(end) } : { items };
      },
    },
  });
  const charge =
    options.charge ?? ((tenantId: string) => ({ tenantId, outcome: 'charged', entryId: `e-${tenantId}` }));
  const handlers = {
    'list-tenants': (input: unknown) => {
      calls.list++;
      return listStep(input);
    },
    'charge-monthly-fee': async (input: unknown) => {
      const { tenantId, period } = input as { tenantId: string; period: string };
      calls.charge.push(tenantId);
      calls.periods.add(period);
      const result = await charge(tenantId, period);
      return { period, ...(result as object) };
    },
    'suspend-tenant': (input: unknown) => {
      const { tenantId, period } = input as { tenantId: string; period: string };
      calls.suspend.push(tenantId);
      options.suspend?.(tenantId);
      return { tenantId, period, outcome: 'suspended' };
    },
  };
  const service = new LocalStepFunctions();
  return { machine: localMonthlyBilling({ handlers, service }), calls, service };
}

/** The executions of one machine, with their history sizes, in start order. */
async function executionsOf(service: LocalStepFunctions, stateMachineArn: string) {
  const records = service.executions.filter((r) => r.stateMachineArn === stateMachineArn);
  return Promise.all(
    records.map(async (r) => ({
      name: r.name,
      parentArn: r.parentArn,
      events: await r.execution.historyEvents,
    })),
  );
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

describe('the monthly billing run’s executions (a page execution each, continued as new)', () => {
  it('charges each page in its own execution, named after the run and the page', async () => {
    const { machine, service } = billingMachine({ tenants: tenants(5), pageSize: 2 });
    const root = machine.run(
      { period: '2026-12' },
      { executionId: 'arn:aws:states:us-east-1:000000000000:execution:monthly-billing:first' },
    );
    await root.result;
    const pages = await executionsOf(service, LOCAL_MONTHLY_BILLING_ARNS.page);
    expect(pages.map((p) => p.name)).toEqual(
      [1, 2, 3].map((n) => expect.stringMatching(new RegExp(`^2026-12-[0-9a-f]{24}-p${n}$`))),
    );
    expect(
      pages.every(
        (p) => p.parentArn === 'arn:aws:states:us-east-1:000000000000:execution:monthly-billing:first',
      ),
    ).toBe(true);
    expect(new Set(pages.map((p) => p.name.split('-')[2])).size).toBe(1);
  });

  it('continues as a new execution every PAGES_PER_EXECUTION pages, handing the tally over', async () => {
    const { machine, service, calls } = billingMachine({
      tenants: tenants(11),
      pageSize: 2,
      pagesPerExecution: 2,
    });
    const tally = (await machine.run({ period: '2026-12' }).result) as BillingRunTally;
    // The first execution's output is the run's tally, however many executions it took.
    expect(tally).toEqual({
      period: '2026-12',
      pages: 6,
      tenants: 11,
      charged: 11,
      alreadyCharged: 0,
      suspended: 0,
      failed: 0,
      failures: [],
    });
    expect([...calls.charge].sort()).toEqual(tenants(11));
    const runs = await executionsOf(service, LOCAL_MONTHLY_BILLING_ARNS.run);
    // Six pages, two per execution.
    expect(runs).toHaveLength(3);
    expect(runs.slice(1).map((r) => r.name)).toEqual([
      expect.stringMatching(/-from-p3$/),
      expect.stringMatching(/-from-p5$/),
    ]);
    // Each continuation was started by the one before it.
    const arns = service.executions.filter((r) => r.stateMachineArn === LOCAL_MONTHLY_BILLING_ARNS.run);
    expect(arns[1]?.parentArn).toBe(arns[0]?.executionArn);
    expect(arns[2]?.parentArn).toBe(arns[1]?.executionArn);
  });

  it('keeps every execution’s history bounded: the run’s by pages per execution, a page’s by its size', async () => {
    const historyOf = async (count: number) => {
      const { machine, service } = billingMachine({
        tenants: tenants(count),
        pageSize: 5,
        pagesPerExecution: 3,
      });
      await machine.run({ period: '2026-12' }).result;
      const runs = await executionsOf(service, LOCAL_MONTHLY_BILLING_ARNS.run);
      const pages = await executionsOf(service, LOCAL_MONTHLY_BILLING_ARNS.page);
      return { runs, pages, max: Math.max(...[...runs, ...pages].map((e) => e.events)) };
    };
    const small = await historyOf(15);
    const large = await historyOf(90);
    // 3 pages of 5 tenants per run execution: six times the tenants, six times the executions...
    expect(small.runs).toHaveLength(1);
    expect(large.runs).toHaveLength(6);
    // ...and no execution any longer: a run execution records 15 events a page and at most 17 of
    // its own (start, period, the last ListTenants, Done, end); a page 11 per tenant that pays, and 6.
    expect(small.max).toBe(15 * 3 + 17);
    expect(large.max).toBeLessThanOrEqual(small.max);
    for (const run of large.runs) expect(run.events).toBeLessThanOrEqual(15 * 3 + 17);
    for (const page of [...small.pages, ...large.pages]) expect(page.events).toBe(11 * 5 + 6);
  });

  it('starts no page execution for an empty page, and still continues as new on time', async () => {
    const { machine, service, calls } = billingMachine({
      tenants: tenants(6),
      pageSize: 2,
      pagesPerExecution: 2,
      filteredOut: ['ten_002', 'ten_003'],
    });
    const tally = (await machine.run({ period: '2026-12' }).result) as BillingRunTally;
    expect(tally).toMatchObject({ pages: 3, tenants: 4, charged: 4, failed: 0 });
    expect(calls.charge.sort()).toEqual(['ten_000', 'ten_001', 'ten_004', 'ten_005']);
    // Pages 1 and 3 only...
    expect(await executionsOf(service, LOCAL_MONTHLY_BILLING_ARNS.page)).toHaveLength(2);
    // ...and the empty page 2 counts towards the pages per execution: page 3 is read by the second.
    const runs = await executionsOf(service, LOCAL_MONTHLY_BILLING_ARNS.run);
    expect(runs.map((r) => r.name.replace(/^.*-/, ''))).toEqual([expect.any(String), 'p3']);
  });

  it('stops the page execution it waits for when it is stopped', async () => {
    let execution: ReturnType<ReturnType<typeof billingMachine>['machine']['run']> | undefined;
    const { machine, calls, service } = billingMachine({
      tenants: tenants(40),
      pageSize: 20,
      charge: async (tenantId) => {
        if (calls.charge.length === 5) execution?.abort();
        await new Promise((r) => setTimeout(r, 5));
        return { tenantId, outcome: 'charged', entryId: 'e' };
      },
    });
    execution = machine.run({ period: '2026-12' });
    await expect(execution.result).rejects.toBeInstanceOf(ExecutionAbortedError);
    await execution.idle();
    expect(calls.charge.length).toBeLessThan(20);
    const [page] = service.executions.filter((r) => r.stateMachineArn === LOCAL_MONTHLY_BILLING_ARNS.page);
    expect(page?.execution.status).toBe('ABORTED');
  });
});

describe('the local Step Functions service', () => {
  const probe = () => {
    const file = join(tmpdir(), `echo-${process.pid}.asl.json`);
    writeFileSync(
      file,
      JSON.stringify({
        StartAt: 'Echo',
        TimeoutSeconds: 10,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: ASL placeholder syntax
        States: { Echo: { Type: 'Task', Resource: '${Fn}', TimeoutSeconds: 5, End: true } },
      }),
    );
    const service = new LocalStepFunctions();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:echo';
    const machine = createLocalStateMachine({
      definitionFile: file,
      stateMachineArn: arn,
      substitutions: { Fn: ARN.list },
      handlers: {
        [ARN.list]: async (input) => {
          await gate;
          return input;
        },
      },
      service,
    });
    service.register(arn, machine);
    return { service, arn, release };
  };

  it('joins a running execution started again with the same name and input, and refuses a reused name otherwise', async () => {
    const { service, arn, release } = probe();
    const first = service.start(arn, { a: 1 }, { name: 'same' });
    expect(service.start(arn, { a: 1 }, { name: 'same' })).toBe(first);
    expect(() => service.start(arn, { a: 2 }, { name: 'same' })).toThrow(
      expect.objectContaining({ name: 'StepFunctions.ExecutionAlreadyExistsException' }),
    );
    release();
    expect(await first.execution.result).toEqual({ a: 1 });
    expect(first.execution.status).toBe('SUCCEEDED');
    expect(() => service.start(arn, { a: 1 }, { name: 'same' })).toThrow(
      expect.objectContaining({ name: 'StepFunctions.ExecutionAlreadyExistsException' }),
    );
    expect(() => service.start(arn, {}, { name: 'not a valid name!' })).toThrow(
      expect.objectContaining({ name: 'StepFunctions.InvalidNameException' }),
    );
    expect(first.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:echo:same');
    // ExecutionStarted, TaskStateEntered, 3 for the Lambda's attempt, TaskStateExited, ExecutionSucceeded.
    expect(await first.execution.historyEvents).toBe(7);
  });

  it('refuses a Task that starts an execution when there is no service to run it', () => {
    expect(() =>
      createLocalStateMachine({
        definitionFile: FILE,
        substitutions: SUBSTITUTIONS,
        handlers: { [ARN.list]: () => ({}) },
      }),
    ).toThrow(/ChargePage starts an execution/);
  });
});

describe('the local runner', () => {
  it('applies DefinitionSubstitutions and finds the Task states, nested ones included', () => {
    const resourcesOf = (file: string) =>
      Object.fromEntries(
        [...taskStates(loadDefinition(file, SUBSTITUTIONS))].map(([name, s]) => [name, s.Resource]),
      );
    expect(resourcesOf(FILE)).toEqual({
      ListTenants: ARN.list,
      ChargePage: 'arn:aws:states:::states:startExecution.sync:2',
      ContinueAsNew: 'arn:aws:states:::states:startExecution.sync:2',
    });
    expect(resourcesOf(PAGE_FILE)).toEqual({ ChargeMonthlyFee: ARN.charge, SuspendTenant: ARN.suspend });
    expect(loadDefinition(FILE, SUBSTITUTIONS).States.ChargePage?.Parameters?.StateMachineArn).toBe(
      LOCAL_MONTHLY_BILLING_ARNS.page,
    );
    expect(Object.keys(MONTHLY_BILLING_STEPS).every((p) => p in SUBSTITUTIONS)).toBe(true);
  });

  it('refuses a placeholder without a substitution and a Task without a handler', () => {
    expect(() => loadDefinition(FILE, {})).toThrow(/no substitution for \$\{ListTenantsFunctionArn\}/);
    expect(() =>
      createLocalStateMachine({ definitionFile: PAGE_FILE, substitutions: SUBSTITUTIONS, handlers: {} }),
    ).toThrow(/Task state ChargeMonthlyFee: no local handler/);
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

/**
 * `.waitForTaskToken` as local mode emulates it, first on a small probe machine, then on
 * statemachines/approval.asl.json with a scripted step handler (the machine's own paths:
 * approve, reject, timeout, check-in, executor failure). The approval steps against DynamoDB
 * Local are test/integration/approval-workflow.test.ts.
 */
describe('task tokens (.waitForTaskToken)', () => {
  const STEP = localFunctionArn('step');
  type Payload = { taskToken: string; executionId: string; n?: number };

  function probe(wait: Record<string, unknown> = {}) {
    const file = join(tmpdir(), `wait-probe-${process.pid}-${Math.random().toString(36).slice(2)}.asl.json`);
    writeFileSync(
      file,
      JSON.stringify({
        StartAt: 'Wait',
        TimeoutSeconds: 60,
        States: {
          Wait: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: {
              // biome-ignore lint/suspicious/noTemplateCurlyInString: ASL placeholder syntax
              FunctionName: '${Fn}',
              Payload: { 'taskToken.$': '$$.Task.Token', 'executionId.$': '$$.Execution.Id', 'n.$': '$.n' },
            },
            ResultSelector: { 'outcome.$': '$.outcome' },
            ResultPath: '$.decision',
            TimeoutSeconds: 30,
            HeartbeatSeconds: 10,
            Catch: [
              { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' },
              { ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.error', Next: 'NoHeartbeat' },
              { ErrorEquals: ['Coordinator.Refused'], ResultPath: '$.error', Next: 'Refused' },
            ],
            End: true,
            ...wait,
          },
          TimedOut: { Type: 'Pass', Result: 'timed out', ResultPath: '$.ended', End: true },
          NoHeartbeat: { Type: 'Pass', Result: 'no heartbeat', ResultPath: '$.ended', End: true },
          Refused: { Type: 'Pass', Result: 'refused', ResultPath: '$.ended', End: true },
        },
      }),
    );
    const seen: Payload[] = [];
    let onCall: (payload: Payload) => unknown = () => ({ accepted: true });
    const machine = createLocalStateMachine({
      definitionFile: file,
      substitutions: { Fn: STEP },
      handlers: {
        [STEP]: (input) => {
          seen.push(input as Payload);
          return onCall(input as Payload);
        },
      },
    });
    return {
      machine,
      seen,
      onCall: (fn: (payload: Payload) => unknown) => {
        onCall = fn;
      },
    };
  }

  /** Resolves once the handler has been called `n` times. */
  async function called(seen: unknown[], n = 1): Promise<void> {
    while (seen.length < n) await new Promise((r) => setTimeout(r, 2));
  }

  it('hands the handler a token and the execution id, and ends the Task with what resume sends', async () => {
    const { machine, seen } = probe();
    const execution = machine.run({ n: 1 }, { executionId: 'arn:local:execution:probe:1' });
    await called(seen);
    const [payload] = seen as [Payload];
    expect(payload.executionId).toBe('arn:local:execution:probe:1');
    expect(payload.taskToken).toMatch(/^local-task-token-/);
    expect(machine.resume(payload.taskToken, { outcome: 'approved', ignored: true })).toBe(true);
    expect(await execution.result).toEqual({ n: 1, decision: { outcome: 'approved' } });
    // Used once: the token is no longer waited on.
    expect(machine.resume(payload.taskToken, { outcome: 'rejected' })).toBe(false);
    expect(machine.heartbeat(payload.taskToken)).toBe(false);
  });

  it('lets the handler resume its own token before it returns (the waiter is registered first)', async () => {
    const { machine, onCall } = probe();
    onCall((payload) => {
      expect(machine.resume(payload.taskToken, { outcome: 'cancelled' })).toBe(true);
      return { resumed: true };
    });
    expect(await machine.run({ n: 2 }).result).toEqual({ n: 2, decision: { outcome: 'cancelled' } });
  });

  it('fails the Task with the name and cause fail() sends, for the Catch to route', async () => {
    const { machine, seen } = probe();
    const execution = machine.run({ n: 3 });
    await called(seen);
    expect(machine.fail((seen[0] as Payload).taskToken, 'Coordinator.Refused', 'not today')).toBe(true);
    expect(await execution.result).toEqual({
      n: 3,
      error: { Error: 'Coordinator.Refused', Cause: 'not today' },
      ended: 'refused',
    });
  });

  it('fails with States.HeartbeatTimeout when no heartbeat comes within HeartbeatSeconds', async () => {
    const { machine, seen } = probe();
    const execution = machine.run({ n: 4 }, { heartbeatOverridesMs: { Wait: 60 } });
    await called(seen);
    const result = (await execution.result) as { error: { Error: string }; ended: string };
    expect(result.error.Error).toBe('States.HeartbeatTimeout');
    expect(result.ended).toBe('no heartbeat');
    expect(machine.resume((seen[0] as Payload).taskToken, { outcome: 'approved' })).toBe(false);
  });

  it('keeps waiting while heartbeats come, each restarting HeartbeatSeconds', async () => {
    const { machine, seen } = probe();
    const execution = machine.run({ n: 5 }, { heartbeatOverridesMs: { Wait: 250 } });
    await called(seen);
    const token = (seen[0] as Payload).taskToken;
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 50));
      expect(machine.heartbeat(token)).toBe(true);
    }
    // 400 ms in, well past one heartbeat interval: still waiting.
    expect(machine.resume(token, { outcome: 'approved' })).toBe(true);
    expect(await execution.result).toEqual({ n: 5, decision: { outcome: 'approved' } });
  });

  it('fails with States.Timeout after TimeoutSeconds (shortened for the test), and forgets the token', async () => {
    const { machine, seen } = probe();
    const started = Date.now();
    const execution = machine.run({ n: 6 }, { timeoutOverridesMs: { Wait: 100 } });
    await called(seen);
    const result = (await execution.result) as { error: { Error: string }; ended: string };
    expect(result).toMatchObject({ error: { Error: 'States.Timeout' }, ended: 'timed out' });
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 5));
    expect(machine.resume((seen[0] as Payload).taskToken, { outcome: 'approved' })).toBe(false);
  });

  it('fails the Task with the handler’s error when the handler fails, and the token is void', async () => {
    const { machine, seen, onCall } = probe({
      Catch: [
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' },
        { ErrorEquals: ['States.HeartbeatTimeout'], ResultPath: '$.error', Next: 'NoHeartbeat' },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Refused' },
      ],
    });
    onCall(() => {
      throw lambdaError('Approval.CONFLICT', 'busy');
    });
    const result = (await machine.run({ n: 7 }).result) as { error: { Error: string; Cause: string } };
    expect(result.error.Error).toBe('Approval.CONFLICT');
    expect(JSON.parse(result.error.Cause)).toMatchObject({ errorMessage: 'busy' });
    expect(machine.resume((seen[0] as Payload).taskToken, { outcome: 'approved' })).toBe(false);
  });

  it('refuses unknown tokens, and ends the waits of an aborted execution', async () => {
    const { machine, seen } = probe();
    expect(machine.resume('no-such-token', { outcome: 'approved' })).toBe(false);
    expect(machine.fail('no-such-token', 'X')).toBe(false);
    expect(machine.heartbeat('no-such-token')).toBe(false);
    const execution = machine.run({ n: 8 });
    await called(seen);
    execution.abort();
    await expect(execution.result).rejects.toBeInstanceOf(ExecutionAbortedError);
    await new Promise((r) => setTimeout(r, 0));
    expect(machine.heartbeat((seen[0] as Payload).taskToken)).toBe(false);
  });
});

describe('the approval ASL, run locally with a scripted step handler', () => {
  const APPROVAL_FILE = join(__dirname, '..', APPROVAL_DEFINITION);
  const STEP = localFunctionArn('approval-step');
  type Event = { step: string; taskToken?: string; outcome?: string; executionId?: string };
  const INPUT = { tenantId: 'ten_1', approvalId: 'apr_1', actionId: 'act_1' };

  function approvalMachine(script: Partial<Record<string, (event: Event, n: number) => unknown>> = {}) {
    const calls: Event[] = [];
    const machine = createLocalStateMachine({
      definitionFile: APPROVAL_FILE,
      substitutions: { [APPROVAL_STEP_FUNCTION.placeholder]: STEP },
      handlers: {
        [STEP]: (input) => {
          const event = input as Event;
          calls.push(event);
          const n = calls.filter((c) => c.step === event.step).length;
          const scripted = script[event.step];
          if (scripted) return scripted(event, n);
          if (event.step === 'execute') return { outcome: 'executed' };
          if (event.step === 'close') return { outcome: event.outcome };
          return { outcome: 'ok' };
        },
      },
    });
    const steps = () => calls.map((c) => (c.step === 'close' ? `close:${c.outcome}` : c.step));
    const waiting = async (n = 1) => {
      while (calls.filter((c) => c.step === 'wait').length < n) await new Promise((r) => setTimeout(r, 2));
      return calls.filter((c) => c.step === 'wait')[n - 1]?.taskToken as string;
    };
    return { machine, calls, steps, waiting };
  }

  it('substitutes the one step function into every Task, the wait included', () => {
    const definition = loadDefinition(APPROVAL_FILE, { [APPROVAL_STEP_FUNCTION.placeholder]: STEP });
    const tasks = [...taskStates(definition)];
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [
        'CheckDecision',
        'Close',
        'ExecuteAction',
        'Expire',
        'NotifyCoordinators',
        'RecordRequest',
        'ReleaseFailed',
        'WaitForDecision',
      ].sort(),
    );
    for (const [, state] of tasks) expect(functionOf(state)).toBe(STEP);
    expect(waitsForTaskToken(definition.States[WAIT_FOR_DECISION_STATE] as never)).toBe(true);
  });

  it('approved: records, notifies, waits, executes', async () => {
    const { machine, steps, waiting, calls } = approvalMachine();
    const execution = machine.run(INPUT, { executionId: 'exec-approve' });
    machine.resume(await waiting(), { outcome: 'approved' });
    expect(await execution.result).toMatchObject({
      ...INPUT,
      decision: { outcome: 'approved' },
      result: { outcome: 'executed' },
    });
    expect(steps()).toEqual(['record', 'notify', 'wait', 'execute']);
    expect(calls[0]?.executionId).toBe('exec-approve');
  });

  it.each(['rejected', 'cancelled'])('%s: closes the action with that outcome', async (outcome) => {
    const { machine, steps, waiting } = approvalMachine();
    const execution = machine.run(INPUT);
    machine.resume(await waiting(), { outcome });
    expect(await execution.result).toMatchObject({ result: { outcome } });
    expect(steps()).toEqual(['record', 'notify', 'wait', `close:${outcome}`]);
  });

  it('timeout: States.Timeout on the wait expires the approval', async () => {
    const { machine, steps } = approvalMachine();
    const result = await machine.run(INPUT, { timeoutOverridesMs: { WaitForDecision: 50 } }).result;
    expect(result).toMatchObject({ error: { Error: 'States.Timeout' }, result: { outcome: 'expired' } });
    expect(steps()).toEqual(['record', 'notify', 'wait', 'close:expired']);
  });

  it('check-in: a missed heartbeat checks the approval and waits again with a fresh token, until it expires', async () => {
    const { machine, steps, calls } = approvalMachine({
      check: (_, n) => ({ outcome: n < 2 ? 'pending' : 'expired' }),
    });
    const result = await machine.run(INPUT, { heartbeatOverridesMs: { WaitForDecision: 30 } }).result;
    expect(result).toMatchObject({ result: { outcome: 'expired' } });
    expect(steps()).toEqual(['record', 'notify', 'wait', 'check', 'wait', 'check', 'close:expired']);
    const tokens = calls.filter((c) => c.step === 'wait').map((c) => c.taskToken);
    expect(new Set(tokens).size).toBe(2);
  });

  it('check-in: a decision whose resume was lost is acted on', async () => {
    const { machine, steps } = approvalMachine({ check: () => ({ outcome: 'approved' }) });
    const result = await machine.run(INPUT, { heartbeatOverridesMs: { WaitForDecision: 30 } }).result;
    expect(result).toMatchObject({ result: { outcome: 'executed' } });
    expect(steps()).toEqual(['record', 'notify', 'wait', 'check', 'execute']);
  });

  it('a notification that keeps failing does not lose the approval', async () => {
    const { machine, steps, waiting } = approvalMachine({
      notify: () => {
        throw lambdaError('Approval.PROVIDER_UNAVAILABLE');
      },
    });
    const execution = machine.run(INPUT, { retryIntervalMs: 0 });
    machine.resume(await waiting(), { outcome: 'approved' });
    expect(await execution.result).toMatchObject({
      notifyError: { Error: 'Approval.PROVIDER_UNAVAILABLE' },
      result: { outcome: 'executed' },
    });
    // Retried (1 + 4 attempts), then the wait goes on.
    expect(steps().filter((s) => s === 'notify')).toHaveLength(5);
  });

  it('executor failure: releases the action as failed, and the execution fails', async () => {
    const { machine, steps, waiting } = approvalMachine({
      execute: () => {
        throw lambdaError('TypeError', 'a bug');
      },
    });
    const execution = machine.run(INPUT, { retryIntervalMs: 0 });
    machine.resume(await waiting(), { outcome: 'approved' });
    await expect(execution.result).rejects.toMatchObject({ cause: { name: 'Approval.StepFailed' } });
    // A bug is not retried: the action may have run, so it is closed, not run again.
    expect(steps()).toEqual(['record', 'notify', 'wait', 'execute', 'close:failed']);
  });

  it('retries the executor only when Lambda did not run it', async () => {
    const { machine, steps, waiting } = approvalMachine({
      execute: (_, n) => {
        if (n === 1) throw lambdaError('Lambda.TooManyRequestsException');
        return { outcome: 'executed' };
      },
    });
    const execution = machine.run(INPUT, { retryIntervalMs: 0 });
    machine.resume(await waiting(), { outcome: 'approved' });
    expect(await execution.result).toMatchObject({ result: { outcome: 'executed' } });
    expect(steps()).toEqual(['record', 'notify', 'wait', 'execute', 'execute']);
  });

  it('the wait step resumes at once when the approval was decided before it', async () => {
    let machineRef: ReturnType<typeof createLocalStateMachine> | undefined;
    const { machine, steps } = approvalMachine({
      wait: (event) => {
        machineRef?.resume(event.taskToken as string, { outcome: 'cancelled' });
        return { outcome: 'resumed' };
      },
    });
    machineRef = machine;
    expect(await machine.run(INPUT).result).toMatchObject({ result: { outcome: 'cancelled' } });
    expect(steps()).toEqual(['record', 'notify', 'wait', 'close:cancelled']);
  });
});
