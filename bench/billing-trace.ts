import { AsyncLocalStorage } from 'node:async_hooks';
import type { TableClient } from '../lambdas/adapters/dynamodb/document-client';
import { percentile } from './stats';

/** What one debit sent to DynamoDB, and how long each kind of request took. */
export interface DebitTrace {
  totalMs: number;
  reads: number;
  readMs: number;
  transactions: number;
  transactionMs: number;
  /** Cancellation reasons and error names of failed requests, counted. */
  failures: Record<string, number>;
}

const current = new AsyncLocalStorage<DebitTrace>();

/** Runs `task` with a fresh trace: every request sent through a traced client inside it is counted. */
export async function traced(task: () => Promise<unknown>): Promise<DebitTrace> {
  const trace: DebitTrace = {
    totalMs: 0,
    reads: 0,
    readMs: 0,
    transactions: 0,
    transactionMs: 0,
    failures: {},
  };
  const started = performance.now();
  await current.run(trace, task);
  trace.totalMs = performance.now() - started;
  return trace;
}

/** The same client, timing each request into the trace of the debit that sent it (the lane's promise chain keeps it). */
export function tracingClient(client: TableClient): TableClient {
  const send = (async (command: { constructor: { name: string } }) => {
    const trace = current.getStore();
    const started = performance.now();
    try {
      return await (client.send as (c: unknown) => Promise<unknown>)(command);
    } catch (error) {
      if (trace) {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
        const codes = reasons?.map((r) => r.Code).filter((c) => c && c !== 'None') ?? [];
        for (const code of codes.length > 0 ? codes : [(error as Error).name]) {
          trace.failures[code as string] = (trace.failures[code as string] ?? 0) + 1;
        }
      }
      throw error;
    } finally {
      if (trace) {
        const elapsed = performance.now() - started;
        if (command.constructor.name === 'TransactWriteCommand') {
          trace.transactions++;
          trace.transactionMs += elapsed;
        } else if (command.constructor.name === 'BatchGetCommand') {
          trace.reads++;
          trace.readMs += elapsed;
        }
      }
    }
  }) as TableClient['send'];
  return { send };
}

/** Where the slowest 1 % of debits spent their time, beside the median debit. */
export interface TailAttribution {
  /** Debits that sent more than one transaction. */
  readonly retried: number;
  readonly failures: Record<string, number>;
  /** Debits that read before writing (no hint, or a stale one). */
  readonly withRead: number;
  readonly median: Breakdown;
  readonly tail: Breakdown & { readonly n: number; readonly withRead: number; readonly retried: number };
}

export interface Breakdown {
  readonly totalMs: number;
  readonly readMs: number;
  readonly transactionMs: number;
  /** Neither reading nor writing: queued behind this process's earlier changes of the tenant, or backing off. */
  readonly waitMs: number;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

function breakdown(traces: readonly DebitTrace[]): Breakdown {
  const totalMs = mean(traces.map((t) => t.totalMs));
  const readMs = mean(traces.map((t) => t.readMs));
  const transactionMs = mean(traces.map((t) => t.transactionMs));
  return { totalMs, readMs, transactionMs, waitMs: totalMs - readMs - transactionMs };
}

export function attribute(traces: readonly DebitTrace[]): TailAttribution {
  const failures: Record<string, number> = {};
  for (const trace of traces) {
    for (const [code, n] of Object.entries(trace.failures)) failures[code] = (failures[code] ?? 0) + n;
  }
  const p99 = percentile(
    traces.map((t) => t.totalMs),
    99,
  );
  const p50 = percentile(
    traces.map((t) => t.totalMs),
    50,
  );
  const tail = traces.filter((t) => t.totalMs >= p99);
  const middle = traces.filter((t) => Math.abs(t.totalMs - p50) <= p50 * 0.1);
  return {
    retried: traces.filter((t) => t.transactions > 1).length,
    failures,
    withRead: traces.filter((t) => t.reads > 0).length,
    median: breakdown(middle),
    tail: {
      ...breakdown(tail),
      n: tail.length,
      withRead: tail.filter((t) => t.reads > 0).length,
      retried: tail.filter((t) => t.transactions > 1).length,
    },
  };
}
