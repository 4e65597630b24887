import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULT_LOW_BALANCE_THRESHOLD } from '../../domain/billing/billing';
import { hourOf } from '../../domain/billing/calendar';
import { BalanceBusyError } from '../../domain/billing/errors';
import type {
  Balance,
  BillingOperation,
  BillingRepository,
  ExpiredHold,
  IdempotencyClaim,
  LedgerChange,
  LedgerEntry,
  LedgerOutcome,
  LedgerRequest,
  LedgerSnapshot,
  RecordedChange,
  Reservation,
  SuspendResult,
  Suspension,
  TenantStatus,
  UsageDay,
  UsageIncrement,
} from '../../domain/billing/ports';
import { NotFoundError } from '../../domain/shared/errors';
import type { Page, PageRequest } from '../../domain/shared/pagination';
import { isConditionFailure, transactionItemAtFailure, withoutKeys } from './conditions';
import { queryPage } from './pagination';
import { GSI1 } from './table-definition';
import { tenantKey } from './tenant-repository';

/**
 * Balance, ledger, reservations, idempotency claims, daily usage and suspensions.
 *   balance       pk = T#<tenantId>           sk = BALANCE        available, reserved, seq (changes so far)
 *   ledger entry  pk = T#<tenantId>#LEDGER    sk = <createdAt ISO>#<entryId>   (time order, date ranges)
 *   reservation   pk = T#<tenantId>#RSV       sk = <reservationId>
 *                 while held: gsi1pk = RSVHELD#<hour the hold ends, YYYY-MM-DDTHH>
 *                             gsi1sk = <holdUntil, 12 digits>#<tenantId>#<reservationId>
 *                 (platform-level, read by housekeeping only; closed reservations leave it and expire)
 *   claim         pk = T#<tenantId>#BILLKEY   sk = <operation>#<idempotency key>  → the first result
 *   usage day     pk = T#<tenantId>#USAGE     sk = <YYYY-MM-DD>   charged, credited, agent:<id>, action:<name>
 *   suspension    pk = T#<tenantId>           sk = SUSPENSION     reason, period, pausedAgentIds
 *   sweep mark    pk = BILLING#HOUSEKEEPING   sk = RESERVATIONS   (platform-level)
 *
 * Every balance change is one TransactWriteItems: the balance, set to the values the domain's plan
 * computed, on the condition that its `seq` is still the one the plan was made from; the ledger
 * entry; the claim (`attribute_not_exists`); and, as the change needs, the reservation, the day's
 * usage (`ADD`) and a ConditionCheck that the tenant is active. A failed condition returns the
 * item as it is now (ALL_OLD), so a race costs no extra read before planning again.
 */
const balanceKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'BALANCE' });
const suspensionKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'SUSPENSION' });
const ledgerPartition = (tenantId: string) => `T#${tenantId}#LEDGER`;
const ledgerKey = (entry: Pick<LedgerEntry, 'tenantId' | 'createdAt' | 'id'>) => ({
  pk: ledgerPartition(entry.tenantId),
  sk: `${entry.createdAt}#${entry.id}`,
});
const reservationKey = (tenantId: string, reservationId: string) => ({
  pk: `T#${tenantId}#RSV`,
  sk: reservationId,
});
const HELD_PREFIX = 'RSVHELD#';
const heldIndexKey = (reservation: Pick<Reservation, 'tenantId' | 'id' | 'holdUntil'>) => ({
  gsi1pk: `${HELD_PREFIX}${hourOf(new Date(reservation.holdUntil * 1000))}`,
  gsi1sk: `${epochKey(reservation.holdUntil)}#${reservation.tenantId}#${reservation.id}`,
});
const epochKey = (seconds: number) => String(seconds).padStart(12, '0');
const claimKey = (tenantId: string, operation: BillingOperation, key: string) => ({
  pk: `T#${tenantId}#BILLKEY`,
  sk: `${operation}#${key}`,
});
const usagePartition = (tenantId: string) => `T#${tenantId}#USAGE`;
const SWEEP_KEY = { pk: 'BILLING#HOUSEKEEPING', sk: 'RESERVATIONS' };
/** Closed reservations are kept this long for support; the ledger keeps their story for good. */
const CLOSED_RESERVATION_TTL_SECONDS = 90 * 86_400;
const AGENT_ATTRIBUTE = 'agent:';
const ACTION_ATTRIBUTE = 'action:';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Item = Record<string, unknown>;

const number = (value: unknown): number => (typeof value === 'number' ? value : 0);

function toBalance(tenantId: string, item: Item | undefined): { balance: Balance; seq: number } {
  return {
    balance: {
      tenantId,
      available: number(item?.available),
      reserved: number(item?.reserved),
      lowBalanceThreshold:
        typeof item?.lowBalanceThreshold === 'number'
          ? item.lowBalanceThreshold
          : DEFAULT_LOW_BALANCE_THRESHOLD,
      updatedAt: typeof item?.updatedAt === 'string' ? item.updatedAt : '',
    },
    seq: number(item?.seq),
  };
}

function toReservation(item: Item): Reservation {
  const { expiresAt: _x, ...rest } = withoutKeys<Reservation & Item>(item);
  return rest as Reservation;
}

function toSuspension(item: Item): Suspension {
  const { pausedAgentIds, ...rest } = withoutKeys<Suspension & Item>(item);
  return { ...rest, pausedAgentIds: pausedAgentIds instanceof Set ? [...pausedAgentIds].map(String) : [] };
}

function toUsageDay(item: Item): UsageDay {
  const byAgent: Record<string, number> = {};
  const byAction: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(AGENT_ATTRIBUTE)) byAgent[name.slice(AGENT_ATTRIBUTE.length)] = number(value);
    else if (name.startsWith(ACTION_ATTRIBUTE)) byAction[name.slice(ACTION_ATTRIBUTE.length)] = number(value);
  }
  return {
    day: String(item.sk),
    charged: number(item.charged),
    credited: number(item.credited),
    byAgent,
    byAction,
  };
}

const statusOf = (item: Item | undefined): TenantStatus | undefined =>
  item === undefined ? undefined : item.status === 'suspended' ? 'suspended' : 'active';

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
  tail: Promise<void>;
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
}

/** Counters of how often changes had to be planned again; read by the bench. */
export interface ContentionCounters {
  /** Transactions sent. */
  attempts: number;
  /** Lost a compare-and-set: someone changed the balance (or the reservation, or the tenant) first. */
  stale: number;
  /** Cancelled by DynamoDB because another transaction was on the same item at the same moment. */
  conflicts: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DynamoBillingRepository implements BillingRepository {
  readonly contention: ContentionCounters = { attempts: 0, stale: 0, conflicts: 0 };
  /** Each tenant's queue of changes in this process, while it has any. */
  private readonly lanes = new Map<string, Lane>();
  private readonly maxAttempts: number;
  private readonly maxWaitMs: number;
  private readonly maxBackoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: BillingRepositoryOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 200;
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 256;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
  }

  /** Full jitter: many writers that lost the same race do not come back at the same moment. */
  private backoff(attempt: number): Promise<void> {
    return this.sleep(this.random() * Math.min(this.maxBackoffMs, 2 ** Math.min(attempt, 16)));
  }

  // -------------------------------------------------------------------------------------------
  // Balance changes.

  /**
   * One change per tenant at a time in this process, queued in a lane. Writers in one process
   * would otherwise only make each other's compare-and-set fail (with 50 in flight, a dozen
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
      lane = { tail: Promise.resolve() };
      this.lanes.set(tenantId, lane);
    }
    const queued = lane;
    const run = queued.tail.then(() => this.recordNow(request, plan, queued));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    queued.tail = tail;
    // The lane, and the state it carries, ends when its queue runs dry: no stale state outlives it.
    void tail.then(() => {
      if (queued.tail === tail) this.lanes.delete(tenantId);
    });
    return run;
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
      const { items, at } = this.transaction(request, snapshot, change);
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
        if (!(error instanceof TransactionCanceledException)) throw error;
        const claimed = transactionItemAtFailure(error, at.claim);
        if (claimed.failed) {
          // Someone recorded this key first (a concurrent repeat): theirs is the result.
          state = claimed.item
            ? { snapshot, fresh: true, claim: storedClaim(claimed.item) }
            : await this.read(request);
          continue;
        }
        if (attempt >= this.maxAttempts || Date.now() - started > this.maxWaitMs) {
          throw new BalanceBusyError(attempt);
        }
        const reasons = error.CancellationReasons ?? [];
        if (reasons.some((reason) => reason.Code === 'TransactionConflict')) {
          this.contention.conflicts++;
          await this.backoff(attempt);
          state = await this.read(request);
          continue;
        }
        if (!reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) throw error;
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

  private transaction(
    request: LedgerRequest,
    snapshot: LedgerSnapshot,
    change: LedgerChange,
  ): { items: TransactItem[]; at: TransactionIndex } {
    const { tenantId } = request;
    const { entry } = change;
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: balanceKey(tenantId),
          UpdateExpression:
            'SET available = :available, reserved = :reserved, seq = :next, updatedAt = :at, ' +
            'tenantId = :tenantId, entity = :entity, ' +
            'lowBalanceThreshold = if_not_exists(lowBalanceThreshold, :threshold)',
          // Compare-and-set: only from the state the plan was made from. 0 = never written.
          ConditionExpression: snapshot.seq === 0 ? 'attribute_not_exists(seq)' : 'seq = :seq',
          ExpressionAttributeValues: {
            ':available': change.available,
            ':reserved': change.reserved,
            ':next': snapshot.seq + 1,
            ':at': entry.createdAt,
            ':tenantId': tenantId,
            ':entity': 'balance',
            ':threshold': DEFAULT_LOW_BALANCE_THRESHOLD,
            ...(snapshot.seq === 0 ? {} : { ':seq': snapshot.seq }),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      this.claimPut(tenantId, request.claim, recorded(change), entry.createdAt),
      {
        Put: {
          TableName: this.tableName,
          Item: { ...ledgerKey(entry), entity: 'ledgerEntry', ...entry },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    const at: TransactionIndex = { balance: 0, claim: 1, ledger: 2 };
    if (change.reservation) {
      at.reservation = items.length;
      items.push(
        'open' in change.reservation
          ? this.reservationPut(change.reservation.open)
          : this.reservationClose(change.reservation.close),
      );
    }
    if (change.usage) items.push(this.usageUpdate(tenantId, change.usage));
    if (change.requireActiveTenant) {
      at.tenant = items.length;
      items.push({
        ConditionCheck: {
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      });
    }
    return { items, at };
  }

  private claimPut(
    tenantId: string,
    claim: IdempotencyClaim,
    result: RecordedChange,
    at: string,
  ): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...claimKey(tenantId, claim.operation, claim.key),
          entity: 'billingClaim',
          operation: claim.operation,
          fingerprint: claim.fingerprint,
          result,
          createdAt: at,
          ...(claim.ttlSeconds === undefined
            ? {}
            : { expiresAt: Math.floor(Date.parse(at) / 1000) + claim.ttlSeconds }),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  private reservationPut(reservation: Reservation): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...reservationKey(reservation.tenantId, reservation.id),
          ...heldIndexKey(reservation),
          entity: 'reservation',
          ...reservation,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  /** Settled or released: only from held, and out of the held index. */
  private reservationClose(reservation: Reservation): TransactItem {
    const closedAt = reservation.closedAt ?? new Date().toISOString();
    return {
      Update: {
        TableName: this.tableName,
        Key: reservationKey(reservation.tenantId, reservation.id),
        UpdateExpression: `SET #status = :status, closedAt = :closedAt, expiresAt = :expiresAt${
          reservation.charged === undefined ? '' : ', charged = :charged'
        } REMOVE gsi1pk, gsi1sk`,
        ConditionExpression: '#status = :held',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':status': reservation.status,
          ':held': 'held',
          ':closedAt': closedAt,
          ':expiresAt': Math.floor(Date.parse(closedAt) / 1000) + CLOSED_RESERVATION_TTL_SECONDS,
          ...(reservation.charged === undefined ? {} : { ':charged': reservation.charged }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /** The day's totals move with the entry (top-level attributes: ADD does not reach into maps). */
  private usageUpdate(tenantId: string, usage: UsageIncrement): TransactItem {
    const names: Record<string, string> = {};
    const adds = ['charged :charged', 'credited :credited'];
    if (usage.agentId !== undefined) {
      names['#agent'] = `${AGENT_ATTRIBUTE}${usage.agentId}`;
      adds.push('#agent :charged');
    }
    if (usage.action !== undefined) {
      names['#action'] = `${ACTION_ATTRIBUTE}${usage.action}`;
      adds.push('#action :charged');
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: usagePartition(tenantId), sk: usage.day },
        UpdateExpression: `SET entity = :entity, tenantId = :tenantId ADD ${adds.join(', ')}`,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: {
          ':entity': 'usageDay',
          ':tenantId': tenantId,
          ':charged': usage.charged,
          ':credited': usage.credited,
        },
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Reads.

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

  listLedger(
    tenantId: string,
    days: { from: string; to: string },
    page: PageRequest,
  ): Promise<Page<LedgerEntry>> {
    return queryPage<LedgerEntry>({
      client: this.client,
      input: {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': ledgerPartition(tenantId),
          ':from': `${days.from}T`,
          // `~` sorts after every character of an ISO time and an id: the whole last day is in.
          ':to': `${days.to}T~`,
        },
        ScanIndexForward: false,
      },
      scope: JSON.stringify(['ledger', tenantId, days.from, days.to]),
      limit: page.limit,
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      map: (item) => withoutKeys<LedgerEntry>(item),
    });
  }

  async usageDays(tenantId: string, from: string, to: string): Promise<UsageDay[]> {
    const days: UsageDay[] = [];
    let startKey: Item | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': usagePartition(tenantId), ':from': from, ':to': to },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) days.push(toUsageDay(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return days;
  }

  // -------------------------------------------------------------------------------------------
  // Suspension.

  async suspend(
    suspension: Suspension,
    options: { readonly unlessAvailableAtLeast?: number } = {},
  ): Promise<SuspendResult> {
    const { tenantId } = suspension;
    const { pausedAgentIds: _none, notifiedAt: _not, ...record } = suspension;
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: tenantKey(tenantId),
          UpdateExpression: 'SET #status = :suspended, updatedAt = :at ADD version :one',
          ConditionExpression: 'attribute_exists(pk) AND #status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':suspended': 'suspended',
            ':active': 'active',
            ':at': suspension.suspendedAt,
            ':one': 1,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      // Unconditional: a record left by a reactivation that crashed half-way is replaced.
      {
        Put: {
          TableName: this.tableName,
          Item: { ...suspensionKey(tenantId), entity: 'suspension', ...record },
        },
      },
    ];
    if (options.unlessAvailableAtLeast !== undefined) {
      items.push({
        ConditionCheck: {
          TableName: this.tableName,
          Key: balanceKey(tenantId),
          ConditionExpression: 'attribute_not_exists(available) OR available < :required',
          ExpressionAttributeValues: { ':required': options.unlessAvailableAtLeast },
        },
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items }));
        return 'suspended';
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const tenant = transactionItemAtFailure(error, 0);
        if (tenant.failed) {
          if (!tenant.item) throw new NotFoundError('Tenant', tenantId);
          return 'already_suspended';
        }
        if (items.length > 2 && transactionItemAtFailure(error, 2).failed) return 'can_pay';
        const conflict = (error.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
        if (!conflict || attempt >= 10) throw error;
        await this.backoff(attempt + 2);
      }
    }
  }

  async getSuspension(tenantId: string): Promise<Suspension | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: suspensionKey(tenantId), ConsistentRead: true }),
    );
    return Item ? toSuspension(Item) : undefined;
  }

  async notePausedAgents(tenantId: string, agentIds: readonly string[]): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: suspensionKey(tenantId),
          UpdateExpression: 'ADD pausedAgentIds :ids',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':ids': new Set(agentIds) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async markSuspensionNotified(tenantId: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: suspensionKey(tenantId),
          UpdateExpression: 'SET notifiedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      // Lifted meanwhile: there is nothing left to mark.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async reactivate(tenantId: string, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: tenantKey(tenantId),
                UpdateExpression: 'SET #status = :active, updatedAt = :at ADD version :one',
                ConditionExpression: '#status = :suspended',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':active': 'active',
                  ':suspended': 'suspended',
                  ':at': at,
                  ':one': 1,
                },
              },
            },
            { Delete: { TableName: this.tableName, Key: suspensionKey(tenantId) } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (transactionItemAtFailure(error, 0).failed) return false;
      throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Housekeeping (platform-level: these keys carry no tenant).

  listExpiredHolds(hour: string, nowEpoch: number, page: PageRequest): Promise<Page<ExpiredHold>> {
    return queryPage<ExpiredHold>({
      client: this.client,
      input: {
        TableName: this.tableName,
        IndexName: GSI1,
        // gsi1sk starts with the 12-digit hold end, so "< now" is a key condition, not a filter.
        KeyConditionExpression: 'gsi1pk = :bucket AND gsi1sk < :now',
        ProjectionExpression: 'tenantId, #id, holdUntil',
        ExpressionAttributeNames: { '#id': 'id' },
        ExpressionAttributeValues: { ':bucket': `${HELD_PREFIX}${hour}`, ':now': epochKey(nowEpoch) },
      },
      scope: `held:${hour}:${nowEpoch}`,
      limit: page.limit,
      ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
      map: (item) => ({
        tenantId: String(item.tenantId),
        reservationId: String(item.id),
        holdUntil: number(item.holdUntil),
      }),
    });
  }

  async getSweepMark(): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: SWEEP_KEY, ConsistentRead: true }),
    );
    return typeof Item?.sweptThrough === 'string' ? Item.sweptThrough : undefined;
  }

  async setSweepMark(hour: string): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...SWEEP_KEY, entity: 'sweepMark', sweptThrough: hour },
          // Two overlapping runs: the mark only moves forward.
          ConditionExpression: 'attribute_not_exists(pk) OR sweptThrough < :hour',
          ExpressionAttributeValues: { ':hour': hour },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}

/** Where each item sits in a change's transaction, to read its cancellation reason. */
interface TransactionIndex {
  balance: number;
  claim: number;
  ledger: number;
  reservation?: number;
  tenant?: number;
}

function recorded(change: LedgerChange): RecordedChange {
  if (!change.reservation) return { entry: change.entry };
  return {
    entry: change.entry,
    reservation: 'open' in change.reservation ? change.reservation.open : change.reservation.close,
  };
}

function storedClaim(item: Item): { change: RecordedChange; fingerprint: string } {
  return { change: item.result as RecordedChange, fingerprint: String(item.fingerprint) };
}
