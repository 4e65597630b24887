import { parseArgs } from 'node:util';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoAgentRepository } from '../lambdas/adapters/dynamodb/agent-repository';
import { DynamoBillingRepository } from '../lambdas/adapters/dynamodb/billing-repository';
import { createDocumentClient } from '../lambdas/adapters/dynamodb/document-client';
import { DynamoTenantRepository } from '../lambdas/adapters/dynamodb/tenant-repository';
import { InProcessEventBus } from '../lambdas/adapters/events/in-process-bus';
import { type BillingDeps, credit, debit } from '../lambdas/domain/billing/billing';
import { DEFAULT_COST_TABLE } from '../lambdas/domain/billing/costs';
import { newId } from '../lambdas/domain/shared/ids';
import { newTenantWithOwner } from '../lambdas/domain/tenants/new-tenant';
import { ensureTable, startDynamoDbLocal } from '../local/dynamodb-local';
import { attribute, type DebitTrace, type TailAttribution, traced, tracingClient } from './billing-trace';
import { heading, ms, p50p99, table, verdict } from './report';
import { type Summary, summarize } from './stats';

/**
 * Debits on DynamoDB Local: one tenant's balance under contention (one process with 50 in flight,
 * and 10 processes racing), 100 tenants at once, and one at a time; each beside the raw
 * round trip it cannot beat — a conditional UpdateItem (`ADD available -1` if `available >= 1`)
 * on one item, under the same load. A debit is a TransactWriteItems of 5 items (balance `ADD` if
 * enough, ledger entry, idempotency claim, usage day, tenant check), planned from what the process
 * last knew of the balance, or from a consistent BatchGetItem when it knew nothing or a condition
 * failed; the raw update is one request on one item and cannot say what the balance was after
 * it. Every scenario then checks the ledger is exact: balance = funded − debits, and the
 * balance's change counter = the number of ledger entries. A second table attributes the tail: per
 * debit, its reads, transactions, failed requests and the time queued in its process's lane.
 *
 * Only this section: `npm run bench:billing` (or `npx tsx bench/billing.ts --debits 600`).
 */
export interface BillingBenchOptions {
  /** Debits per contended scenario. */
  readonly debits?: number;
  /** Debits in flight in the contended scenarios. */
  readonly inFlight?: number;
  /** Debits one after another. */
  readonly sequential?: number;
  readonly progress?: (message: string) => void;
  /** Lane widths (deltas of one tenant side by side per process) to measure beside the default. */
  readonly laneWidths?: readonly number[];
}

export interface BillingScenario {
  readonly name: string;
  readonly debits: number;
  readonly opsPerSecond: number;
  readonly latencyMs: Summary;
  /** TransactWriteItems sent per debit (1 = no race lost). */
  readonly attemptsPerDebit: number;
  readonly raw: { readonly opsPerSecond: number; readonly latencyMs: Summary };
  /** The same DynamoDB requests as a debit, without the billing code (and without losing races). */
  readonly transactionFloor: { readonly opsPerSecond: number; readonly latencyMs: Summary };
  /** The ledger matched the balance afterwards. */
  readonly exact: boolean;
  /** Retries per debit and where the slowest 1 % spent their time. */
  readonly tail: TailAttribution;
  /** The same for the transactional floor (its read and its write). */
  readonly floorTail: TailAttribution;
}

export interface BillingBenchResult {
  readonly inFlight: number;
  readonly scenarios: readonly BillingScenario[];
  readonly exact: boolean;
}

const TABLE = 'billing-bench';

/** `count` tasks with `width` in flight; per-task latency and the wall time of the lot. */
async function load(
  count: number,
  width: number,
  task: (i: number) => Promise<unknown>,
): Promise<{ samples: number[]; seconds: number }> {
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await task(i);
        samples.push(performance.now() - t);
      }
    }),
  );
  return { samples, seconds: (performance.now() - started) / 1000 };
}

export async function measureBilling(options: BillingBenchOptions = {}): Promise<BillingBenchResult> {
  const debits = options.debits ?? 600;
  const inFlight = options.inFlight ?? 50;
  const sequential = options.sequential ?? 300;
  const progress = options.progress ?? (() => undefined);
  progress('billing: starting DynamoDB Local…');
  const dynamo = await startDynamoDbLocal();
  const client = createDocumentClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  try {
    await ensureTable(dynamo.endpoint, TABLE);
    const tenants = new DynamoTenantRepository(client, TABLE);
    const depsWith = (billing: DynamoBillingRepository): BillingDeps => ({
      billing,
      tenants,
      agents: new DynamoAgentRepository(client, TABLE),
      events: new InProcessEventBus(),
      costs: DEFAULT_COST_TABLE,
      now: () => new Date(),
    });
    const funding = 10 * debits;

    async function fundedTenant(): Promise<string> {
      const tenantId = newId('tenant');
      const ownerId = newId('user');
      const { tenant, owner } = newTenantWithOwner(
        { id: tenantId, name: 'Bench', slug: `bench-${tenantId.slice(-12).toLowerCase()}` },
        { id: ownerId, email: `${ownerId}@bench.test`, name: 'B' },
        new Date().toISOString(),
      );
      await tenants.createWithOwner(tenant, owner);
      await credit(
        depsWith(new DynamoBillingRepository(client, TABLE)),
        tenantId,
        funding,
        { type: 'grant' },
        'seed',
        'bench',
      );
      return tenantId;
    }

    /** The raw floor: one conditional update on one of `items` items. */
    async function rawLoad(count: number, width: number, items: number) {
      const keys = Array.from({ length: items }, (_, i) => ({
        pk: `BENCH#RAW#${newId('tenant')}`,
        sk: `ITEM#${i}`,
      }));
      await Promise.all(
        keys.map((Key) =>
          client.send(new PutCommand({ TableName: TABLE, Item: { ...Key, available: funding } })),
        ),
      );
      return load(count, width, (i) =>
        client.send(
          new UpdateCommand({
            TableName: TABLE,
            Key: keys[i % items],
            UpdateExpression: 'ADD available :minus',
            ConditionExpression: 'available >= :one',
            ExpressionAttributeValues: { ':minus': -1, ':one': 1 },
          }),
        ),
      );
    }

    /**
     * The transactional floor: the requests a debit sends (a consistent BatchGetItem of two keys
     * and a TransactWriteItems of the same five items, fresh keys), without the billing code.
     */
    async function rawTransactionLoad(count: number, width: number, items: number, traces: DebitTrace[]) {
      const tracer = tracingClient(client);
      const base = `BENCH#TX#${newId('tenant')}`;
      const keys = Array.from({ length: items }, (_, i) => ({ pk: `${base}#${i}`, sk: 'BALANCE' }));
      await Promise.all(
        keys.flatMap((Key) => [
          client.send(new PutCommand({ TableName: TABLE, Item: { ...Key, available: funding, seq: 0 } })),
          client.send(
            new PutCommand({ TableName: TABLE, Item: { pk: Key.pk, sk: 'TENANT', status: 'active' } }),
          ),
        ]),
      );
      const entry = { type: 'settlement', amount: -1, charged: 1, action: 'llmCall', agentId: 'agt_bench' };
      return load(count, width, async (i) => {
        traces.push(await traced(() => floorDebit(i)));
      });
      async function floorDebit(i: number) {
        const key = keys[i % items] as { pk: string; sk: string };
        await tracer.send(
          new BatchGetCommand({
            RequestItems: {
              [TABLE]: { Keys: [key, { pk: `${key.pk}#KEY`, sk: `d-${i}` }], ConsistentRead: true },
            },
          }),
        );
        await tracer.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: TABLE,
                  Key: key,
                  UpdateExpression: 'ADD available :minus, seq :one',
                  ConditionExpression: 'available >= :one',
                  ExpressionAttributeValues: { ':minus': -1, ':one': 1 },
                },
              },
              {
                Put: {
                  TableName: TABLE,
                  Item: { pk: `${key.pk}#LEDGER`, sk: `${new Date().toISOString()}#${i}`, ...entry },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: TABLE,
                  Item: { pk: `${key.pk}#KEY`, sk: `d-${i}`, result: { entry } },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: TABLE,
                  Key: { pk: `${key.pk}#USAGE`, sk: 'DAY' },
                  UpdateExpression: 'ADD charged :one',
                  ExpressionAttributeValues: { ':one': 1 },
                },
              },
              {
                ConditionCheck: {
                  TableName: TABLE,
                  Key: { pk: key.pk, sk: 'TENANT' },
                  ConditionExpression: '#status = :active',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':active': 'active' },
                },
              },
            ],
          }),
        );
      }
    }

    async function isExact(
      tenantIds: readonly string[],
      debitsOf: (tenantId: string) => number,
    ): Promise<boolean> {
      for (const tenantId of tenantIds) {
        const { Item } = await client.send(
          new GetCommand({
            TableName: TABLE,
            Key: { pk: `T#${tenantId}`, sk: 'BALANCE' },
            ConsistentRead: true,
          }),
        );
        const n = debitsOf(tenantId);
        if (Item?.available !== funding - n || Item?.seq !== n + 1) return false;
      }
      return true;
    }

    const scenarios: BillingScenario[] = [];
    async function scenario(
      name: string,
      spec: { count: number; width: number; tenants: number; processes: number; laneWidth?: number },
    ): Promise<void> {
      progress(`billing: ${name}…`);
      const tenantIds = await Promise.all(Array.from({ length: spec.tenants }, fundedTenant));
      const tracer = tracingClient(client);
      const stores = Array.from(
        { length: spec.processes },
        () =>
          new DynamoBillingRepository(
            tracer,
            TABLE,
            spec.laneWidth === undefined ? {} : { laneWidth: spec.laneWidth },
          ),
      );
      const perTenant = new Map<string, number>();
      const traces: DebitTrace[] = [];
      const run = await load(spec.count, spec.width, async (i) => {
        const tenantId = tenantIds[i % tenantIds.length] as string;
        const store = stores[i % stores.length] as DynamoBillingRepository;
        const trace = await traced(() =>
          debit(depsWith(store), tenantId, 1, { action: 'llmCall', agentId: 'agt_bench' }, `d-${i}`, 'bench'),
        );
        traces.push(trace);
        perTenant.set(tenantId, (perTenant.get(tenantId) ?? 0) + 1);
      });
      const raw = await rawLoad(spec.count, spec.width, spec.tenants);
      const floorTraces: DebitTrace[] = [];
      const transactions = await rawTransactionLoad(spec.count, spec.width, spec.tenants, floorTraces);
      const attempts = stores.reduce((sum, store) => sum + store.contention.attempts, 0);
      scenarios.push({
        name,
        debits: spec.count,
        opsPerSecond: spec.count / run.seconds,
        latencyMs: summarize(run.samples),
        attemptsPerDebit: attempts / spec.count,
        raw: { opsPerSecond: spec.count / raw.seconds, latencyMs: summarize(raw.samples) },
        transactionFloor: {
          opsPerSecond: spec.count / transactions.seconds,
          latencyMs: summarize(transactions.samples),
        },
        exact: await isExact(tenantIds, (id) => perTenant.get(id) ?? 0),
        tail: attribute(traces),
        floorTail: attribute(floorTraces),
      });
    }

    // Warm the JVM and the connection pool first; not reported.
    await scenario('warm-up', { count: 200, width: 10, tenants: 10, processes: 1 });
    scenarios.length = 0;
    await scenario(`1 tenant, 1 process, ${inFlight} in flight`, {
      count: debits,
      width: inFlight,
      tenants: 1,
      processes: 1,
    });
    await scenario(`1 tenant, 10 processes, ${inFlight} in flight`, {
      count: debits,
      width: inFlight,
      tenants: 1,
      processes: 10,
    });
    // Other lane widths beside the default (one delta at a time) in the same run.
    for (const laneWidth of options.laneWidths ?? [10]) {
      await scenario(`1 tenant, 10 processes, ${inFlight} in flight, lanes of ${laneWidth}`, {
        count: debits,
        width: inFlight,
        tenants: 1,
        processes: 10,
        laneWidth,
      });
    }
    await scenario(`100 tenants, 1 process, ${inFlight} in flight`, {
      count: debits,
      width: inFlight,
      tenants: 100,
      processes: 1,
    });
    await scenario('1 tenant, one at a time', { count: sequential, width: 1, tenants: 1, processes: 1 });
    return { inFlight, scenarios, exact: scenarios.every((s) => s.exact) };
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

export function printBilling(result: BillingBenchResult): void {
  console.log(heading('Token debits on DynamoDB Local vs a raw conditional UpdateItem under the same load'));
  console.log(
    table(
      [
        'Scenario',
        'Debits',
        'Debit/s',
        'p50',
        'p99',
        'Tx/debit',
        'Raw/s',
        'Raw p50',
        'Raw p99',
        'Floor/s',
        'Floor p50',
        'Floor p99',
        'p99/floor',
        'Exact',
      ],
      result.scenarios.map((s) => [
        s.name,
        String(s.debits),
        s.opsPerSecond.toFixed(0),
        ...p50p99(s.latencyMs),
        s.attemptsPerDebit.toFixed(2),
        s.raw.opsPerSecond.toFixed(0),
        ...p50p99(s.raw.latencyMs),
        s.transactionFloor.opsPerSecond.toFixed(0),
        ...p50p99(s.transactionFloor.latencyMs),
        `${(s.latencyMs.p99 / s.transactionFloor.latencyMs.p99).toFixed(2)}×`,
        verdict(s.exact),
      ]),
    ),
  );
  console.log(
    [
      'Times in ms. A debit = TransactWriteItems of balance (ADD -1 if enough: a conditional delta, no compare-and-set),',
      'ledger entry, idempotency claim, usage day and a tenant-active check, planned from what the process last knew of',
      'the balance (a consistent BatchGetItem when it knew nothing, or when a condition failed). Raw = UpdateItem ADD',
      'available -1 if available >= 1, one request, on the same number of items (one per tenant) with the same number',
      'in flight. "10 processes" = ten repositories (as ten Lambda containers) on one tenant, each sending its deltas',
      'one at a time ("lanes of N": up to N side by side, same run); Tx/debit > 1 would mean',
      're-planned debits. Floor = the requests of a debit with a read (BatchGetItem of 2 keys + TransactWriteItems of',
      'the same 5 items, delta updates) without the billing code: what DynamoDB Local itself allows; it serialises',
      'transactions. Exact = afterwards each balance is funding − debits and its change counter equals its ledger entries.',
      "p99/floor = the row's p99 over its own floor's p99, both from this run (p99 of 600 = the 7th slowest).",
    ].join('\n'),
  );
}

/** Per-debit retries, and what the slowest 1 % of debits (and of the floor's) waited on. */
export function printBillingTail(result: BillingBenchResult): void {
  console.log(heading('Where the tail comes from (slowest 1 % vs median, mean ms per debit)'));
  const failures = (f: Record<string, number>) =>
    Object.entries(f)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ') || 'none';
  const row = (name: string, t: TailAttribution) => [
    name,
    String(t.retried),
    failures(t.failures),
    String(t.withRead),
    `${ms(t.median.totalMs)} = ${ms(t.median.readMs)} + ${ms(t.median.transactionMs)} + ${ms(t.median.waitMs)}`,
    `${t.tail.n}: ${ms(t.tail.totalMs)} = ${ms(t.tail.readMs)} + ${ms(t.tail.transactionMs)} + ${ms(t.tail.waitMs)}`,
    `${t.tail.withRead}/${t.tail.retried}`,
  ];
  console.log(
    table(
      [
        'Scenario',
        'Retried',
        'Failed requests',
        'Read first',
        'Median: total = read + tx + wait',
        'Tail (n): total = read + tx + wait',
        'Tail read/retried',
      ],
      result.scenarios.flatMap((s) => [row(s.name, s.tail), row('  its floor', s.floorTail)]),
    ),
  );
  console.log(
    'Wait = neither reading nor writing: queued behind earlier changes of the tenant in the same process, or backing off.',
  );
}

export function billingFindings(result: BillingBenchResult): string[] {
  return result.scenarios
    .filter((s) => !s.exact)
    .map((s) => `ERROR billing, ${s.name}: the ledger does not match the balance`);
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      debits: { type: 'string', default: '600' },
      'in-flight': { type: 'string', default: '50' },
      sequential: { type: 'string', default: '300' },
      'lane-widths': { type: 'string', default: '10' },
    },
  });
  measureBilling({
    debits: Number(values.debits),
    inFlight: Number(values['in-flight']),
    sequential: Number(values.sequential),
    laneWidths: values['lane-widths'].split(',').filter(Boolean).map(Number),
    progress: (message) => process.stderr.write(`[bench] ${message}\n`),
  })
    .then((result) => {
      printBilling(result);
      printBillingTail(result);
      process.exitCode = result.exact ? 0 : 1;
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
