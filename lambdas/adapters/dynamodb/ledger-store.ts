import { AsyncResource } from 'node:async_hooks';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BalanceBusyError } from '../../domain/billing/errors';
import type {
  Balance,
  BillingOperation,
  LedgerChange,
  LedgerOutcome,
  LedgerRequest,
  LedgerSnapshot,
  RecordedChange,
  Reservation,
  TenantStatus,
} from '../../domain/billing/ports';
import {
  balanceKey,
  claimKey,
  type Item,
  recorded,
  reservationKey,
  statusOf,
  storedClaim,
  toBalance,
  toReservation,
} from './billing-items';
import { transactionItemAtFailure } from './conditions';
import type { TableClient } from './document-client';
import { type TransactionIndex, transaction } from './ledger-transaction';
import { tenantKey } from './tenant-repository';

/** What `record` works from: the snapshot the domain plans with, and a claim already recorded. */
interface ReadState {
  readonly snapshot: LedgerSnapshot;
  /** Read just now, claim included: a refusal may be made from it. */
  readonly fresh: boolean;
  readonly claim?: { readonly change: RecordedChange; readonly fingerprint: string };
}

/** The state the last change of a lane left behind. */
interface Known {
  readonly balance: Balance;
  readonly seq: number;
  readonly tenantStatus?: TenantStatus;
}

interface Lane {
  /** Changes under way: one compare-and-set, or up to `laneWidth` deltas. */
  running: number;
  /** The one running is a compare-and-set. */
  exclusive: boolean;
  /** In arrival order: a compare-and-set waits for the deltas before it, and deltas for it. */
  waiting: { readonly exclusive: boolean; readonly start: () => void }[];
  known?: Known;
}

/** A snapshot from the lane's last change, when it covers what this change looks at. */
function fromLane(request: LedgerRequest, lane: Lane): ReadState | undefined {
  const known = lane.known;
  if (!known || request.reservationId !== undefined) return undefined;
  if (request.readTenant && known.tenantStatus === undefined) return undefined;
  const snapshot: LedgerSnapshot = {
    balance: known.balance,
    seq: known.seq,
    ...(request.readTenant && known.tenantStatus ? { tenantStatus: known.tenantStatus } : {}),
  };
  return { snapshot, fresh: false };
}

function knownFrom(snapshot: LedgerSnapshot): Known {
  return {
    balance: snapshot.balance,
    seq: snapshot.seq,
    ...(snapshot.tenantStatus === undefined ? {} : { tenantStatus: snapshot.tenantStatus }),
  };
}

export interface BillingRepositoryOptions {
  /** Transaction attempts per change before giving up with 503 BALANCE_BUSY… */
  readonly maxAttempts?: number;
  /** …or time spent on one change (well inside API Gateway's 29 s). */
  readonly maxWaitMs?: number;
  /**
   * Upper bound of one backoff, in ms (full jitter, doubling from 2 ms). Losing writers spread out
   * over up to this long: with 10 processes on one tenant, 256 ms wasted 4× fewer transactions
   * than 16 ms, while an uncontended change never waits at all.
   */
  readonly maxBackoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Deltas of one tenant this process sends side by side (compare-and-sets always go alone). */
  readonly laneWidth?: number;
}

/** Counters of how often changes had to be planned again; read by the bench. */
export interface ContentionCounters {
  /** Transactions sent. */
  attempts: number;
  /** Lost a compare-and-set: someone changed the balance (or the reservation, or the tenant) first. */
  stale: number;
  /** Cancelled by DynamoDB because another transaction was on the same item at the same moment. */
  conflicts: number;
  /**
   * A delta change planned again because a condition failed at commit: the balance was short or
   * not on the side of the low-balance threshold its snapshot said, the tenant was suspended, or
   * the reservation was closed. Not a lost race: other deltas cause it only where the balance
   * crosses the threshold or runs out.
   */
  replanned: number;
}

/**
 * Deltas of one tenant in flight per process. Measured (bench, 10 processes × 5 in flight, same
 * run): one at a time, the slowest 1 % spend most of their time queued in the lane, none retrying;
 * ten side by side move that wait into DynamoDB Local's own serialised transactions and gave a
 * worse p99 and lower throughput in most runs. On DynamoDB side-by-side transactions on one item
 * also cancel each other (TransactionConflict). So one, unless measured otherwise.
 */
const DEFAULT_LANE_WIDTH = 1;

const MAX_HINTS = 1000;
/**
 * A hint older than this (since it was last read or learnt from DynamoDB) is read again: what a
 * condition cannot check (a new low-balance threshold, a repeated key's first result) is at most
 * this stale, and a busy tenant costs one read per second per container.
 */
const HINT_MAX_AGE_MS = 1000;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter: many writers that lost the same race do not come back at the same moment. */
export class Backoff {
  private readonly maxBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: BillingRepositoryOptions = {}) {
    this.maxBackoffMs = options.maxBackoffMs ?? 256;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  wait(attempt: number): Promise<void> {
    return this.sleep(this.random() * Math.min(this.maxBackoffMs, 2 ** Math.min(attempt, 16)));
  }
}

/**
 * Balance changes (the ledger): the compare-and-set transaction and what plans read, the claims
 * that make them idempotent, and the balance and reservations themselves.
 */
export class DynamoLedgerStore {
  readonly contention: ContentionCounters = { attempts: 0, stale: 0, conflicts: 0, replanned: 0 };
  /** Per tenant, this process's last knowledge of the balance: see `recordDelta`. */
  private readonly hints = new Map<string, Known & { readonly learntAt: number }>();
  /** Each tenant's queue of changes in this process, while it has any. */
  private readonly lanes = new Map<string, Lane>();
  private readonly maxAttempts: number;
  private readonly maxWaitMs: number;
  private readonly laneWidth: number;

  constructor(
    private readonly client: TableClient,
    private readonly tableName: string,
    options: BillingRepositoryOptions,
    private readonly backoffs: Backoff,
  ) {
    this.maxAttempts = options.maxAttempts ?? 200;
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
    this.laneWidth = options.laneWidth ?? DEFAULT_LANE_WIDTH;
  }

  private backoff(attempt: number): Promise<void> {
    return this.backoffs.wait(attempt);
  }

  /**
   * Each tenant's changes in this process go through a lane, in arrival order: a compare-and-set
   * alone, deltas up to `laneWidth` side by side (they do not fail each other). Compare-and-set
   * writers in one process would otherwise only make each other fail (with 50 in flight, a dozen
   * wasted transactions per change); writers in different processes (Lambda containers) still
   * race, and the compare-and-set keeps them exact. While changes are queued, each plans from
   * the state the previous one left (no read): if another process moved the balance meanwhile,
   * the compare-and-set fails and returns the current state. A refusal is only ever made from a
   * fresh read, which also finds a repeated key's first result.
   */
  record(request: LedgerRequest, plan: (snapshot: LedgerSnapshot) => LedgerChange): Promise<LedgerOutcome> {
    const { tenantId } = request;
    let lane = this.lanes.get(tenantId);
    if (!lane) {
      lane = { running: 0, exclusive: false, waiting: [] };
      this.lanes.set(tenantId, lane);
    }
    const queued = lane;
    const exclusive = !request.concurrent;
    return new Promise<LedgerOutcome>((resolve, reject) => {
      // Run in the caller's async context (its logger, tracer), not in that of the change that
      // made room for it.
      const start = AsyncResource.bind(() => {
        queued.running++;
        queued.exclusive = exclusive;
        // A delta does not leave a state a compare-and-set could plan from.
        if (!exclusive) queued.known = undefined;
        const run = exclusive ? this.recordNow(request, plan, queued) : this.recordDelta(request, plan);
        run.then(resolve, reject).finally(() => {
          queued.running--;
          queued.exclusive = false;
          this.pump(tenantId, queued);
        });
      });
      queued.waiting.push({ exclusive, start });
      this.pump(tenantId, queued);
    });
  }

  /**
   * Starts the lane's waiting changes in order while they fit: a compare-and-set alone, deltas up
   * to `laneWidth` side by side. The lane, and the state it carries, ends when it runs dry.
   */
  private pump(tenantId: string, lane: Lane): void {
    for (;;) {
      const next = lane.waiting[0];
      if (!next) break;
      const fits = next.exclusive ? lane.running === 0 : !lane.exclusive && lane.running < this.laneWidth;
      if (!fits) break;
      lane.waiting.shift();
      next.start();
    }
    if (lane.running === 0 && lane.waiting.length === 0 && this.lanes.get(tenantId) === lane) {
      this.lanes.delete(tenantId);
    }
  }

  private async recordNow(
    request: LedgerRequest,
    plan: (snapshot: LedgerSnapshot) => LedgerChange,
    lane: Lane,
  ): Promise<LedgerOutcome> {
    const started = Date.now();
    let state = fromLane(request, lane) ?? (await this.read(request));
    for (let attempt = 1; ; attempt++) {
      if (state.claim) return { kind: 'replayed', ...state.claim };
      const { snapshot } = state;
      let change: LedgerChange;
      try {
        change = plan(snapshot);
      } catch (refusal) {
        if (!state.fresh) {
          state = await this.read(request);
          continue;
        }
        lane.known = knownFrom(snapshot);
        throw refusal;
      }
      const { items, at } = transaction(this.tableName, request, snapshot, change);
      try {
        this.contention.attempts++;
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        const after: Balance = {
          ...snapshot.balance,
          available: change.available,
          reserved: change.reserved,
          updatedAt: change.entry.createdAt,
        };
        lane.known = {
          balance: after,
          seq: snapshot.seq + 1,
          ...(change.requireActiveTenant
            ? { tenantStatus: 'active' as const }
            : snapshot.tenantStatus === undefined
              ? {}
              : { tenantStatus: snapshot.tenantStatus }),
        };
        return { kind: 'applied', change: recorded(change), before: snapshot.balance, after };
      } catch (error) {
        lane.known = undefined;
        const failure = await this.cancellationOf(error, at, attempt, started);
        if (failure.kind === 'claimed') {
          state = failure.item
            ? { snapshot, fresh: true, claim: storedClaim(failure.item) }
            : await this.read(request);
          continue;
        }
        if (failure.kind === 'conflict') {
          state = await this.read(request);
          continue;
        }
        this.contention.stale++;
        const learnt = this.learn(request, snapshot, error, at);
        await this.backoff(attempt);
        // What the failed conditions returned is current, but the rest of the snapshot may not
        // be: good enough to try again, not to refuse on.
        state = learnt ? { snapshot: learnt, fresh: false } : await this.read(request);
      }
    }
  }

  /**
   * A costed operation, written as a delta (see `balanceDelta`) alongside the tenant's writers in
   * other processes: nothing is compared, so nothing is lost to a race. In this process it still
   * waits its turn in the tenant's lane: DynamoDB cancels transactions that meet on one item at the
   * same instant (TransactionConflict), and DynamoDB Local runs them slower side by side than one
   * after another; waiting costs no read (the hint is what the previous change left). It is planned from this process's last knowledge of the balance when it has some (a
   * hint: what it last read, learnt from a failed condition, or left with its own last change) and
   * from one consistent read otherwise; settlements and releases always read (they need the
   * reservation). A condition that fails at commit returns the balance as it is, to plan again
   * from; a refusal (402, 404, 409) is only ever made from a fresh read. `before`/`after` are the
   * snapshot's and the snapshot plus the delta: on the same side of the low-balance threshold as
   * the real ones (the condition made sure), but other writers may have moved them.
   */
  private async recordDelta(
    request: LedgerRequest,
    plan: (snapshot: LedgerSnapshot) => LedgerChange,
  ): Promise<LedgerOutcome> {
    const { tenantId } = request;
    const started = Date.now();
    let state = this.fromHint(request) ?? (await this.readAndHint(request));
    for (let attempt = 1; ; attempt++) {
      if (state.claim) return { kind: 'replayed', ...state.claim };
      const { snapshot } = state;
      let change: LedgerChange;
      try {
        change = plan(snapshot);
      } catch (refusal) {
        if (!state.fresh) {
          state = await this.readAndHint(request);
          continue;
        }
        throw refusal;
      }
      if (!change.delta) throw new Error('A concurrent ledger request must plan a delta change');
      const { items, at } = transaction(this.tableName, request, snapshot, change);
      try {
        this.contention.attempts++;
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        const after: Balance = {
          ...snapshot.balance,
          available: change.available,
          reserved: change.reserved,
          updatedAt: change.entry.createdAt,
        };
        const learntAt = this.hints.get(tenantId)?.learntAt ?? 0;
        this.hint(tenantId, { balance: after, seq: snapshot.seq + 1, tenantStatus: 'active' }, learntAt);
        return { kind: 'applied', change: recorded(change), before: snapshot.balance, after };
      } catch (error) {
        const failure = await this.cancellationOf(error, at, attempt, started);
        if (failure.kind === 'claimed') {
          state = failure.item
            ? { snapshot, fresh: true, claim: storedClaim(failure.item) }
            : await this.readAndHint(request);
          continue;
        }
        if (failure.kind === 'conflict') {
          state = await this.readAndHint(request);
          continue;
        }
        const reasons = failure.reasons;
        this.contention.replanned++;
        // Only the balance failed, and it says where it is: plan again from that (no read), or
        // refuse after a fresh read. Anything else (tenant, reservation) is read again.
        const balance = transactionItemAtFailure(error, at.balance);
        const onlyBalance = reasons.filter((reason) => reason.Code === 'ConditionalCheckFailed').length === 1;
        if (balance.failed && balance.item && onlyBalance) {
          const learnt: LedgerSnapshot = { ...snapshot, ...toBalance(tenantId, balance.item) };
          this.hint(tenantId, knownFrom(learnt));
          state = { snapshot: learnt, fresh: false };
        } else {
          state = await this.readAndHint(request);
        }
      }
    }
  }

  /**
   * Why a ledger transaction was cancelled, for both ways of writing (compare-and-set, delta):
   * someone recorded the same key first (`claimed`: theirs is the result); DynamoDB refused two
   * transactions on one item at the same instant (`conflict`: counted and waited out here, nothing
   * to re-plan from); or a condition failed (`condition`). Anything else is rethrown, and a change
   * that has tried long enough is refused as busy.
   */
  private async cancellationOf(
    error: unknown,
    at: TransactionIndex,
    attempt: number,
    started: number,
  ): Promise<
    | { readonly kind: 'claimed'; readonly item?: Record<string, unknown> }
    | { readonly kind: 'conflict' }
    | { readonly kind: 'condition'; readonly reasons: readonly { readonly Code?: string }[] }
  > {
    if (!(error instanceof TransactionCanceledException)) throw error;
    const claimed = transactionItemAtFailure(error, at.claim);
    if (claimed.failed) return { kind: 'claimed', ...(claimed.item ? { item: claimed.item } : {}) };
    if (attempt >= this.maxAttempts || Date.now() - started > this.maxWaitMs) {
      throw new BalanceBusyError(attempt);
    }
    const reasons = error.CancellationReasons ?? [];
    if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
      this.contention.conflicts++;
      await this.backoff(attempt);
      return { kind: 'conflict' };
    }
    if (!reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) throw error;
    return { kind: 'condition', reasons };
  }

  /** A snapshot to plan a costed operation from without a read, when this process has one. */
  private fromHint(request: LedgerRequest): ReadState | undefined {
    if (request.reservationId !== undefined) return undefined;
    const known = this.hints.get(request.tenantId);
    if (!known || (request.readTenant && known.tenantStatus !== 'active')) return undefined;
    if (Date.now() - known.learntAt > HINT_MAX_AGE_MS) return undefined;
    return {
      snapshot: { balance: known.balance, seq: known.seq, tenantStatus: known.tenantStatus },
      fresh: false,
    };
  }

  private async readAndHint(request: LedgerRequest): Promise<ReadState> {
    const state = await this.read(request);
    const { snapshot } = state;
    const status = request.readTenant
      ? snapshot.tenantStatus
      : this.hints.get(request.tenantId)?.tenantStatus;
    this.hint(request.tenantId, {
      balance: snapshot.balance,
      seq: snapshot.seq,
      ...(status === undefined ? {} : { tenantStatus: status }),
    });
    return state;
  }

  /** Most recently used last; the oldest goes past `MAX_HINTS` (a container serves few tenants at once). */
  private hint(tenantId: string, known: Known, learntAt = Date.now()): void {
    this.hints.delete(tenantId);
    this.hints.set(tenantId, { ...known, learntAt });
    if (this.hints.size > MAX_HINTS) {
      const oldest = this.hints.keys().next().value;
      if (oldest !== undefined) this.hints.delete(oldest);
    }
  }

  /**
   * The snapshot as the failed conditions show it now, or undefined when they do not show
   * enough (then it is read again).
   */
  private learn(
    request: LedgerRequest,
    snapshot: LedgerSnapshot,
    error: unknown,
    at: TransactionIndex,
  ): LedgerSnapshot | undefined {
    let next: LedgerSnapshot = snapshot;
    const balance = transactionItemAtFailure(error, at.balance);
    if (balance.failed) {
      if (!balance.item) return undefined;
      next = { ...next, ...toBalance(request.tenantId, balance.item) };
    }
    if (at.reservation !== undefined) {
      const reservation = transactionItemAtFailure(error, at.reservation);
      if (reservation.failed) {
        const { reservation: _gone, ...rest } = next;
        next = reservation.item ? { ...rest, reservation: toReservation(reservation.item) } : rest;
      }
    }
    if (at.tenant !== undefined) {
      const tenant = transactionItemAtFailure(error, at.tenant);
      if (tenant.failed) {
        const { tenantStatus: _gone, ...rest } = next;
        const status = statusOf(tenant.item);
        next = status === undefined ? rest : { ...rest, tenantStatus: status };
      }
    }
    // A failure on an item that cannot be learnt from (the ledger entry, the usage day) means
    // something else is off: read everything again.
    if (transactionItemAtFailure(error, at.ledger).failed) return undefined;
    return next;
  }

  /** One consistent read of everything a plan looks at, in a single round trip. */
  private async read(request: LedgerRequest): Promise<ReadState> {
    const { tenantId, claim } = request;
    const keys = [
      balanceKey(tenantId),
      claimKey(tenantId, claim.operation, claim.key),
      ...(request.reservationId === undefined ? [] : [reservationKey(tenantId, request.reservationId)]),
      ...(request.readTenant ? [tenantKey(tenantId)] : []),
    ];
    const items = await this.batchGet(keys);
    const find = (key: { pk: string; sk: string }) =>
      items.find((item) => item.pk === key.pk && item.sk === key.sk);
    const claimItem = find(claimKey(tenantId, claim.operation, claim.key));
    let snapshot: LedgerSnapshot = toBalance(tenantId, find(balanceKey(tenantId)));
    if (request.reservationId !== undefined) {
      const reservation = find(reservationKey(tenantId, request.reservationId));
      if (reservation) snapshot = { ...snapshot, reservation: toReservation(reservation) };
    }
    if (request.readTenant) {
      const status = statusOf(find(tenantKey(tenantId)));
      if (status) snapshot = { ...snapshot, tenantStatus: status };
    }
    return claimItem ? { snapshot, fresh: true, claim: storedClaim(claimItem) } : { snapshot, fresh: true };
  }

  private async batchGet(keys: Record<string, string>[]): Promise<Item[]> {
    const found: Item[] = [];
    let pending = keys;
    for (let round = 1; pending.length > 0; round++) {
      const { Responses, UnprocessedKeys } = await this.client.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...(Responses?.[this.tableName] ?? []));
      pending = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, string>[];
      if (pending.length > 0) {
        if (round >= 8) throw new Error('BatchGetItem left keys unprocessed after 8 rounds');
        await this.backoff(round + 3);
      }
    }
    return found;
  }

  async setLowBalanceThreshold(tenantId: string, threshold: number, at: string): Promise<void> {
    // Not a ledger change: `seq` is left alone, so no balance compare-and-set is disturbed.
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: balanceKey(tenantId),
        UpdateExpression:
          'SET lowBalanceThreshold = :threshold, thresholdUpdatedAt = :at, tenantId = :tenantId, entity = :entity',
        ExpressionAttributeValues: {
          ':threshold': threshold,
          ':at': at,
          ':tenantId': tenantId,
          ':entity': 'balance',
        },
      }),
    );
  }

  async getBalance(tenantId: string): Promise<Balance | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: balanceKey(tenantId), ConsistentRead: true }),
    );
    return Item ? toBalance(tenantId, Item).balance : undefined;
  }

  async findClaim(tenantId: string, operation: BillingOperation, key: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: claimKey(tenantId, operation, key),
        ConsistentRead: true,
      }),
    );
    return Item ? storedClaim(Item) : undefined;
  }

  async getReservation(tenantId: string, reservationId: string): Promise<Reservation | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: reservationKey(tenantId, reservationId),
        ConsistentRead: true,
      }),
    );
    return Item ? toReservation(Item) : undefined;
  }
}
