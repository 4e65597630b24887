import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoActionRepository } from '../../lambdas/adapters/dynamodb/action-repository';
import { agentKey } from '../../lambdas/adapters/dynamodb/agent-repository';
import { DynamoApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { AUDIT_RETENTION_DAYS, DynamoAuditLog } from '../../lambdas/adapters/dynamodb/audit-repository';
import { DynamoBookingRepository } from '../../lambdas/adapters/dynamodb/booking-repository';
import { DynamoEmergencyStopRepository } from '../../lambdas/adapters/dynamodb/emergency-stop-repository';
import { DynamoPolicyRepository } from '../../lambdas/adapters/dynamodb/policy-repository';
import { DynamoResourceRepository } from '../../lambdas/adapters/dynamodb/resource-repository';
import type { ActionRecord, ActionStatus, Policy } from '../../lambdas/domain/actions/model';
import type { Booking, ResourceRecord } from '../../lambdas/domain/actions/ports';
import type { Approval } from '../../lambdas/domain/approvals/model';
import type { AuditEntry, AuditType } from '../../lambdas/domain/audit/model';
import { ConflictError, NotFoundError, ValidationError } from '../../lambdas/domain/shared/errors';
import { newId } from '../../lambdas/domain/shared/ids';
import { freshTable } from '../support/dynamodb';

let table: Awaited<ReturnType<typeof freshTable>>;
let actions: DynamoActionRepository;
let approvals: DynamoApprovalRepository;
let policies: DynamoPolicyRepository;
let stops: DynamoEmergencyStopRepository;
let audit: DynamoAuditLog;
let resources: DynamoResourceRepository;
let bookings: DynamoBookingRepository;

beforeAll(async () => {
  table = await freshTable();
  actions = new DynamoActionRepository(table.client, table.tableName);
  approvals = new DynamoApprovalRepository(table.client, table.tableName);
  policies = new DynamoPolicyRepository(table.client, table.tableName);
  stops = new DynamoEmergencyStopRepository(table.client, table.tableName);
  audit = new DynamoAuditLog(table.client, table.tableName);
  resources = new DynamoResourceRepository(table.client, table.tableName);
  bookings = new DynamoBookingRepository(table.client, table.tableName);
});

const now = () => new Date().toISOString();
/** ULIDs minted in the same millisecond are not ordered among themselves; listings order by id. */
const newestFirst = (ids: readonly string[]) => [...ids].sort().reverse();

function action(tenantId: string, overrides: Partial<ActionRecord> = {}): ActionRecord {
  const at = now();
  return {
    id: newId('action'),
    tenantId,
    agentId: 'agt_1',
    action: 'send_sms',
    category: 'communication',
    params: { to: '+15550100', body: 'Hello' },
    status: 'awaiting_confirmation',
    decision: { level: 'suggestion', reason: 'policy says suggest', ruleIndex: 0 },
    actorUserId: newId('user'),
    cost: 5,
    reservationId: newId('reservation'),
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

function approval(tenantId: string, overrides: Partial<Approval> = {}): Approval {
  const at = now();
  return {
    id: newId('approval'),
    tenantId,
    actionId: newId('action'),
    agentId: 'agt_1',
    action: 'take_payment',
    params: { amount: 5000 },
    level: 'approval',
    reason: 'payments above 20 need approval',
    status: 'pending',
    requestedBy: newId('user'),
    createdAt: at,
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    updatedAt: at,
    ...overrides,
  };
}

async function all<T>(
  read: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await read(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

describe('actions on DynamoDB Local', () => {
  it('round-trips a record and refuses to create the same id twice', async () => {
    const tenantId = newId('tenant');
    const record = action(tenantId, { locationId: newId('location'), conversationId: newId('conversation') });
    await actions.create(record);
    expect(await actions.get(tenantId, record.id)).toEqual(record);
    await expect(actions.create({ ...record, cost: 999 })).rejects.toBeInstanceOf(ConflictError);
    expect((await actions.get(tenantId, record.id))?.cost).toBe(5);
    expect(await actions.get(tenantId, newId('action'))).toBeUndefined();
  });

  it('transitions with a patch, and reports what it found when the status is not one it may leave', async () => {
    const tenantId = newId('tenant');
    const record = action(tenantId);
    await actions.create(record);
    const moved = await actions.transition(tenantId, record.id, ['awaiting_confirmation'], {
      status: 'executed',
      updatedAt: now(),
      result: { providerId: 'SM123' },
    });
    expect('record' in moved && moved.record).toMatchObject({
      id: record.id,
      status: 'executed',
      result: { providerId: 'SM123' },
      params: record.params,
      createdAt: record.createdAt,
    });
    expect(
      await actions.transition(tenantId, record.id, ['awaiting_confirmation', 'awaiting_approval'], {
        status: 'cancelled',
        updatedAt: now(),
      }),
    ).toEqual({ refusedFrom: 'executed' });
    expect(
      await actions.transition(tenantId, newId('action'), ['awaiting_confirmation'], {
        status: 'cancelled',
        updatedAt: now(),
      }),
    ).toEqual({ refusedFrom: 'missing' });
    expect(await actions.transition(tenantId, record.id, [], { status: 'failed', updatedAt: now() })).toEqual(
      {
        refusedFrom: 'executed',
      },
    );
  });

  it('lets exactly one of 10 concurrent transitions from the same status win', async () => {
    const tenantId = newId('tenant');
    const record = action(tenantId);
    await actions.create(record);
    const targets: ActionStatus[] = ['executing', 'rejected', 'cancelled', 'expired', 'executing'];
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        actions.transition(tenantId, record.id, ['awaiting_confirmation'], {
          status: targets[i % targets.length] ?? 'executing',
          updatedAt: now(),
        }),
      ),
    );
    const winners = outcomes.flatMap((o) => ('record' in o ? [o.record] : []));
    expect(winners).toHaveLength(1);
    const winner = winners[0]?.status;
    expect(outcomes.filter((o) => 'refusedFrom' in o)).toEqual(
      Array.from({ length: 9 }, () => ({ refusedFrom: winner })),
    );
    expect((await actions.get(tenantId, record.id))?.status).toBe(winner);
  });

  it('lists newest first, a page at a time, by status and by agent; listAllInStatus follows transitions', async () => {
    const tenantId = newId('tenant');
    const created: ActionRecord[] = [];
    for (let i = 0; i < 9; i++) {
      const status: ActionStatus = i % 3 === 0 ? 'awaiting_approval' : i % 3 === 1 ? 'executed' : 'denied';
      const record = action(tenantId, { agentId: i % 2 === 0 ? 'agt_a' : 'agt_b', status });
      await actions.create(record);
      created.push(record);
    }
    const everything = await all((cursor) =>
      actions.list(tenantId, { limit: 4, ...(cursor ? { cursor } : {}) }),
    );
    expect(everything.pages).toBe(3);
    expect(everything.items.map((a) => a.id)).toEqual(newestFirst(created.map((a) => a.id)));

    const approvalsPending = await all((cursor) =>
      actions.list(tenantId, { limit: 2, status: 'awaiting_approval', ...(cursor ? { cursor } : {}) }),
    );
    expect(approvalsPending.items.map((a) => a.id)).toEqual(
      newestFirst(created.filter((a) => a.status === 'awaiting_approval').map((a) => a.id)),
    );

    const ofB = await all((cursor) =>
      actions.list(tenantId, { limit: 2, agentId: 'agt_b', ...(cursor ? { cursor } : {}) }),
    );
    expect(ofB.items.map((a) => a.id)).toEqual(
      newestFirst(created.filter((a) => a.agentId === 'agt_b').map((a) => a.id)),
    );
    const executedOfA = await actions.list(tenantId, { limit: 10, agentId: 'agt_a', status: 'executed' });
    expect(executedOfA.items.map((a) => a.id)).toEqual(
      newestFirst(created.filter((a) => a.agentId === 'agt_a' && a.status === 'executed').map((a) => a.id)),
    );

    const open = created.filter((a) => a.status === 'awaiting_approval');
    expect((await actions.listAllInStatus(tenantId, 'awaiting_approval')).map((a) => a.id).sort()).toEqual(
      open.map((a) => a.id).sort(),
    );
    expect(
      (await actions.listAllInStatus(tenantId, 'awaiting_approval', 'agt_a')).map((a) => a.id).sort(),
    ).toEqual(
      open
        .filter((a) => a.agentId === 'agt_a')
        .map((a) => a.id)
        .sort(),
    );
    const [first] = open;
    if (!first) throw new Error('fixture has an open action');
    await actions.transition(tenantId, first.id, ['awaiting_approval'], {
      status: 'cancelled',
      updatedAt: now(),
    });
    expect((await actions.listAllInStatus(tenantId, 'awaiting_approval')).map((a) => a.id)).not.toContain(
      first.id,
    );
    expect((await actions.listAllInStatus(tenantId, 'cancelled')).map((a) => a.id)).toEqual([first.id]);
  });

  it("keeps tenants apart: B sees none of A's actions, and A's cursor is a 400 for B", async () => {
    const a = newId('tenant');
    const b = newId('tenant');
    const records = [action(a), action(a), action(a)];
    for (const record of records) await actions.create(record);
    const page = await actions.list(a, { limit: 1 });
    expect(page.nextCursor).toBeDefined();
    expect(await actions.get(b, records[0]?.id ?? '')).toBeUndefined();
    expect((await actions.list(b, { limit: 10 })).items).toEqual([]);
    expect(await actions.listAllInStatus(b, 'awaiting_confirmation')).toEqual([]);
    expect(
      await actions.transition(b, records[0]?.id ?? '', ['awaiting_confirmation'], {
        status: 'cancelled',
        updatedAt: now(),
      }),
    ).toEqual({ refusedFrom: 'missing' });
    await expect(actions.list(b, { limit: 1, cursor: page.nextCursor ?? '' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    // Nor is a cursor of one filter good for another listing of the same tenant.
    await expect(
      actions.list(a, { limit: 1, status: 'awaiting_confirmation', cursor: page.nextCursor ?? '' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('approvals on DynamoDB Local', () => {
  it('round-trips an approval and never returns the task token from get, list or listPending', async () => {
    const tenantId = newId('tenant');
    const request = approval(tenantId);
    await approvals.create(request);
    expect(await approvals.get(tenantId, request.id)).toEqual(request);
    expect(await approvals.taskToken(tenantId, request.id)).toBeUndefined();

    expect(await approvals.attachTaskToken(tenantId, request.id, 'secret-task-token', 'exec-arn-1')).toBe(
      true,
    );
    expect(await approvals.taskToken(tenantId, request.id)).toBe('secret-task-token');
    const stored = await approvals.get(tenantId, request.id);
    expect(stored).toEqual({ ...request, workflowExecutionId: 'exec-arn-1' });
    const listed = [
      stored,
      ...(await approvals.list(tenantId, { limit: 10 })).items,
      ...(await approvals.list(tenantId, { limit: 10, status: 'pending' })).items,
      ...(await approvals.listPending(tenantId)),
    ];
    expect(listed).toHaveLength(4);
    for (const item of listed) expect(JSON.stringify(item)).not.toContain('secret-task-token');

    const decided = await approvals.decide(tenantId, request.id, 'approved', { userId: 'usr_x', at: now() });
    expect(JSON.stringify(decided)).not.toContain('secret-task-token');
    // The deadline is the approval's, as given; the table's TTL attribute is left alone.
    const raw = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: `T#${tenantId}#APPROVALS`, sk: request.id } }),
    );
    expect(raw.Item?.expiresAt).toBeUndefined();
    expect((await approvals.get(tenantId, request.id))?.expiresAt).toBe(request.expiresAt);
  });

  it('attaches a task token only while pending', async () => {
    const tenantId = newId('tenant');
    const request = approval(tenantId);
    await approvals.create(request);
    await approvals.decide(tenantId, request.id, 'rejected', { userId: 'usr_x', at: now() });
    expect(await approvals.attachTaskToken(tenantId, request.id, 'late-token', 'exec-arn')).toBe(false);
    expect(await approvals.taskToken(tenantId, request.id)).toBeUndefined();
    expect(await approvals.attachTaskToken(tenantId, newId('approval'), 'token', 'exec-arn')).toBe(false);
  });

  it('decides once: of 20 concurrent approves and rejects exactly one wins, the rest see its status', async () => {
    const tenantId = newId('tenant');
    const request = approval(tenantId);
    await approvals.create(request);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        approvals.decide(tenantId, request.id, i % 2 === 0 ? 'approved' : 'rejected', {
          userId: `usr_${i}`,
          at: now(),
          comment: `decider ${i}`,
        }),
      ),
    );
    const winners = outcomes.flatMap((o) => ('approval' in o ? [o.approval] : []));
    expect(winners).toHaveLength(1);
    const winner = winners[0];
    expect(outcomes.filter((o) => 'refusedFrom' in o)).toEqual(
      Array.from({ length: 19 }, () => ({ refusedFrom: winner?.status })),
    );
    const stored = await approvals.get(tenantId, request.id);
    expect(stored).toMatchObject({
      status: winner?.status,
      decidedBy: winner?.decidedBy,
      comment: winner?.comment,
    });
    expect(await approvals.listPending(tenantId)).toEqual([]);
    expect(
      await approvals.decide(tenantId, newId('approval'), 'approved', { userId: 'usr_x', at: now() }),
    ).toEqual({ refusedFrom: 'missing' });
  });

  it('lists by status newest first with a cursor, pending per agent, and keeps tenants apart', async () => {
    const tenantId = newId('tenant');
    const created: Approval[] = [];
    for (let i = 0; i < 6; i++) {
      const request = approval(tenantId, { agentId: i < 4 ? 'agt_a' : 'agt_b' });
      await approvals.create(request);
      created.push(request);
    }
    const [decidedOne] = created;
    if (!decidedOne) throw new Error('fixture');
    await approvals.decide(tenantId, decidedOne.id, 'expired', { userId: 'system', at: now() });
    const pending = await all((cursor) =>
      approvals.list(tenantId, { limit: 2, status: 'pending', ...(cursor ? { cursor } : {}) }),
    );
    expect(pending.items.map((a) => a.id)).toEqual(newestFirst(created.slice(1).map((a) => a.id)));
    expect((await approvals.list(tenantId, { limit: 10, status: 'expired' })).items.map((a) => a.id)).toEqual(
      [decidedOne.id],
    );
    expect((await approvals.listPending(tenantId, 'agt_a')).map((a) => a.id).sort()).toEqual(
      created
        .slice(1, 4)
        .map((a) => a.id)
        .sort(),
    );

    const other = newId('tenant');
    expect(await approvals.get(other, decidedOne.id)).toBeUndefined();
    expect(await approvals.listPending(other)).toEqual([]);
    expect(await approvals.taskToken(other, decidedOne.id)).toBeUndefined();
    const page = await approvals.list(tenantId, { limit: 1 });
    await expect(approvals.list(other, { limit: 1, cursor: page.nextCursor ?? '' })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});

describe('policy and emergency stop on DynamoDB Local', () => {
  const policy = (tenantId: string, version: number, maxActionsPerTurn = 3): Policy => ({
    tenantId,
    rules: [{ action: 'take_payment', when: { param: 'amount', gt: 2000 }, level: 'approval' }],
    maxActionsPerTurn,
    approvalTimeoutSeconds: 3600,
    version,
    updatedAt: now(),
    updatedBy: 'usr_admin',
  });

  it('writes version n only over version n - 1', async () => {
    const tenantId = newId('tenant');
    expect(await policies.get(tenantId)).toBeUndefined();
    await expect(policies.put(policy(tenantId, 2))).rejects.toBeInstanceOf(ConflictError);
    const first = policy(tenantId, 1);
    await policies.put(first);
    expect(await policies.get(tenantId)).toEqual(first);
    await expect(policies.put(policy(tenantId, 1, 9))).rejects.toMatchObject({
      statusCode: 409,
      details: { currentVersion: 1 },
    });
    await expect(policies.put(policy(tenantId, 3))).rejects.toBeInstanceOf(ConflictError);

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => policies.put(policy(tenantId, 2, 10 + i))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof ConflictError)).toBe(true);
    expect((await policies.get(tenantId))?.version).toBe(2);
    expect(await policies.get(newId('tenant'))).toBeUndefined();
  });

  it('sets, reads and lifts a tenant-wide stop', async () => {
    const tenantId = newId('tenant');
    expect(await stops.getTenantStop(tenantId)).toBeUndefined();
    const stop = { tenantId, reason: 'runaway agent', stoppedBy: 'usr_admin', stoppedAt: now() };
    await stops.setTenantStop(stop);
    expect(await stops.getTenantStop(tenantId)).toEqual(stop);
    expect(await stops.getTenantStop(newId('tenant'))).toBeUndefined();
    await stops.clearTenantStop(tenantId);
    expect(await stops.getTenantStop(tenantId)).toBeUndefined();
    await stops.clearTenantStop(tenantId);
    await expect(stops.setTenantStop({ ...stop, agentId: 'agt_1' })).rejects.toThrow(/no agentId/);
    await stops.setTenantStop(stop);
    const later = new Date(Date.now() + 1000).toISOString();
    expect(await stops.stampTenantStop(tenantId, later)).toBe(true);
    expect((await stops.getTenantStop(tenantId))?.stoppedAt).toBe(later);
    await stops.clearTenantStop(tenantId);
    // Lifted meanwhile: stamping does not bring the stop back.
    expect(await stops.stampTenantStop(tenantId, later)).toBe(false);
    expect(await stops.getTenantStop(tenantId)).toBeUndefined();
  });

  describe('starting an execution', () => {
    async function agentIn(tenantId: string, status: string) {
      const agentId = newId('agent');
      await table.client.send(
        new PutCommand({
          TableName: table.tableName,
          Item: { ...agentKey(tenantId, agentId), entity: 'agent', id: agentId, tenantId, status },
        }),
      );
      return agentId;
    }

    it('moves an open action, or creates an automatic one, executing while nothing stops it', async () => {
      const tenantId = newId('tenant');
      const agentId = await agentIn(tenantId, 'active');
      const open = action(tenantId, { agentId });
      await actions.create(open);
      const at = now();
      const started = await actions.startExecution(open, ['awaiting_confirmation'], at);
      expect(started).toEqual({ record: { ...open, status: 'executing', updatedAt: at } });
      expect(await actions.get(tenantId, open.id)).toEqual({ ...open, status: 'executing', updatedAt: at });
      expect(await actions.startExecution(open, ['awaiting_confirmation'], at)).toEqual({
        refusedFrom: 'executing',
      });
      const automatic = action(tenantId, { agentId, status: 'executing' });
      expect(await actions.startExecution(automatic, 'new', at)).toEqual({
        record: { ...automatic, updatedAt: at },
      });
      await expect(actions.startExecution(automatic, 'new', at)).rejects.toBeInstanceOf(ConflictError);
      expect((await actions.listAllInStatus(tenantId, 'executing')).map((a) => a.id).sort()).toEqual(
        [open.id, automatic.id].sort(),
      );
    });

    it('refuses under a tenant stop, and for a paused or deleted agent, writing nothing', async () => {
      const tenantId = newId('tenant');
      const agentId = await agentIn(tenantId, 'active');
      const open = action(tenantId, { agentId });
      await actions.create(open);
      await stops.setTenantStop({ tenantId, reason: 'halt', stoppedBy: 'usr_admin', stoppedAt: now() });
      expect(await actions.startExecution(open, ['awaiting_confirmation'], now())).toEqual({
        stopped: 'tenant',
      });
      const automatic = action(tenantId, { agentId, status: 'executing' });
      expect(await actions.startExecution(automatic, 'new', now())).toEqual({ stopped: 'tenant' });
      expect(await actions.get(tenantId, automatic.id)).toBeUndefined();
      await stops.clearTenantStop(tenantId);

      const paused = await agentIn(tenantId, 'paused');
      const ofPaused = action(tenantId, { agentId: paused });
      await actions.create(ofPaused);
      expect(await actions.startExecution(ofPaused, ['awaiting_confirmation'], now())).toEqual({
        stopped: 'agent',
        agentStatus: 'paused',
      });
      expect((await actions.get(tenantId, ofPaused.id))?.status).toBe('awaiting_confirmation');
      const missing = action(tenantId, { agentId: 'agt_gone', status: 'executing' });
      expect(await actions.startExecution(missing, 'new', now())).toEqual({
        stopped: 'agent',
        agentStatus: 'deleted',
      });
      // The stop came after: the open action is still there to be started.
      expect(await actions.startExecution(open, ['awaiting_confirmation'], now())).toMatchObject({
        record: { status: 'executing' },
      });
    });

    it('lets 20 concurrent starts of one tenant through', async () => {
      const tenantId = newId('tenant');
      const agentId = await agentIn(tenantId, 'active');
      const many = Array.from({ length: 20 }, () => action(tenantId, { agentId, status: 'executing' }));
      const started = await Promise.all(many.map((a) => actions.startExecution(a, 'new', now())));
      expect(started.every((s) => 'record' in s)).toBe(true);
    });
  });
});

describe('audit log on DynamoDB Local', () => {
  const base = Date.parse('2025-03-01T00:00:00.000Z');
  const entry = (tenantId: string, minute: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
    id: newId('audit'),
    tenantId,
    type: 'action.executed',
    at: new Date(base + minute * 60_000).toISOString(),
    actor: { kind: 'agent', id: 'agt_a' },
    agentId: 'agt_a',
    outcome: 'executed',
    details: { action: 'send_sms' },
    ...overrides,
  });

  it('appends, never overwrites, and stamps a retention TTL', async () => {
    const tenantId = newId('tenant');
    const first = entry(tenantId, 0);
    await audit.append([first]);
    await expect(audit.append([{ ...first, outcome: 'tampered' }])).rejects.toBeInstanceOf(ConflictError);
    // A batch holding an entry already there is refused whole.
    const fresh = entry(tenantId, 1);
    await expect(audit.append([fresh, { ...first, outcome: 'tampered' }])).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(audit.append([fresh, fresh])).rejects.toBeInstanceOf(ConflictError);
    const listed = await audit.list(tenantId, { limit: 10 });
    expect(listed.items).toEqual([first]);

    const raw = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `T#${tenantId}#AUDIT` },
      }),
    );
    expect(raw.Items).toHaveLength(1);
    expect(raw.Items?.[0]?.expiresAt).toBe(Math.floor(base / 1000) + AUDIT_RETENTION_DAYS * 86_400);

    await audit.append([fresh, entry(tenantId, 2)]);
    expect((await audit.list(tenantId, { limit: 10 })).items).toHaveLength(3);
    await audit.append([]);
  });

  it('appends more than one transaction holds', async () => {
    const tenantId = newId('tenant');
    const many = Array.from({ length: 130 }, (_, i) => entry(tenantId, i));
    await audit.append(many);
    const listed = await all((cursor) => audit.list(tenantId, { limit: 50, ...(cursor ? { cursor } : {}) }));
    expect(listed.items).toHaveLength(130);
  });

  it('reads newest first within [from, to), by agent, type, actor and action, across pages', async () => {
    const tenantId = newId('tenant');
    const types: AuditType[] = ['action.proposed', 'action.executed', 'approval.decided'];
    const entries = Array.from({ length: 30 }, (_, minute) =>
      entry(tenantId, minute, {
        type: types[minute % 3] ?? 'action.executed',
        ...(minute % 5 === 0 ? { agentId: 'agt_b' } : minute % 5 === 1 ? { agentId: undefined } : {}),
        actor: minute % 2 === 0 ? { kind: 'user', id: 'usr_1' } : { kind: 'agent', id: 'agt_a' },
        actionId: minute % 4 === 0 ? 'act_four' : 'act_other',
      }),
    ).map((e) => JSON.parse(JSON.stringify(e)) as AuditEntry);
    await audit.append(entries);
    const ids = (items: AuditEntry[]) => items.map((e) => e.id);
    const expected = (keep: (e: AuditEntry, minute: number) => boolean) =>
      entries.filter((e, minute) => keep(e, minute)).reverse();

    const everything = await all((cursor) =>
      audit.list(tenantId, { limit: 7, ...(cursor ? { cursor } : {}) }),
    );
    expect(everything.pages).toBe(5);
    expect(ids(everything.items)).toEqual(ids(expected(() => true)));

    const from = new Date(base + 10 * 60_000).toISOString();
    // A different spelling of the same instant must mean the same bound.
    const to = new Date(base + 20 * 60_000).toISOString().replace('.000Z', 'Z');
    const ranged = await all((cursor) =>
      audit.list(tenantId, { limit: 3, from, to, ...(cursor ? { cursor } : {}) }),
    );
    expect(ids(ranged.items)).toEqual(ids(expected((_, m) => m >= 10 && m < 20)));

    const ofB = await all((cursor) =>
      audit.list(tenantId, { limit: 2, agentId: 'agt_b', from, ...(cursor ? { cursor } : {}) }),
    );
    expect(ids(ofB.items)).toEqual(ids(expected((e, m) => e.agentId === 'agt_b' && m >= 10)));

    const typed = await all((cursor) =>
      audit.list(tenantId, { limit: 4, type: 'approval.decided', ...(cursor ? { cursor } : {}) }),
    );
    expect(ids(typed.items)).toEqual(ids(expected((e) => e.type === 'approval.decided')));

    const byActor = await all((cursor) =>
      audit.list(tenantId, {
        limit: 4,
        actorId: 'usr_1',
        actionId: 'act_four',
        ...(cursor ? { cursor } : {}),
      }),
    );
    expect(ids(byActor.items)).toEqual(
      ids(expected((e) => e.actor.id === 'usr_1' && e.actionId === 'act_four')),
    );

    await expect(audit.list(tenantId, { limit: 5, from: to, to: from })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(audit.list(tenantId, { limit: 5, from: 'yesterday' })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it("keeps tenants apart: B reads none of A's entries and cannot use A's cursor", async () => {
    const a = newId('tenant');
    const b = newId('tenant');
    await audit.append([entry(a, 0), entry(a, 1), entry(a, 2)]);
    const page = await audit.list(a, { limit: 1 });
    expect(page.nextCursor).toBeDefined();
    expect((await audit.list(b, { limit: 10 })).items).toEqual([]);
    expect((await audit.list(b, { limit: 10, agentId: 'agt_a' })).items).toEqual([]);
    await expect(audit.list(b, { limit: 1, cursor: page.nextCursor ?? '' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(
      audit.list(a, { limit: 1, type: 'action.executed', cursor: page.nextCursor ?? '' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('resources on DynamoDB Local', () => {
  const resource = (tenantId: string, collection = 'orders'): ResourceRecord => ({
    id: newId('resource'),
    tenantId,
    collection,
    data: { item: 'pizza', quantity: 2 },
    version: 1,
    createdBy: 'usr_1',
    createdAt: now(),
    updatedAt: now(),
  });

  it('creates, reads, updates under a version, deletes, and lists a collection with a cursor', async () => {
    const tenantId = newId('tenant');
    const record = resource(tenantId);
    await resources.create(record);
    await expect(resources.create(record)).rejects.toBeInstanceOf(ConflictError);
    expect(await resources.get(tenantId, 'orders', record.id)).toEqual(record);
    expect(await resources.get(tenantId, 'tickets', record.id)).toBeUndefined();

    const at = now();
    const updated = await resources.update(tenantId, 'orders', record.id, { item: 'salad' }, 1, at);
    expect(updated).toEqual({ ...record, data: { item: 'salad' }, version: 2, updatedAt: at });
    await expect(
      resources.update(tenantId, 'orders', record.id, { item: 'soup' }, 1, now()),
    ).rejects.toMatchObject({
      statusCode: 409,
      details: { currentVersion: 2 },
    });
    await expect(
      resources.update(tenantId, 'orders', newId('resource'), { item: 'soup' }, 1, now()),
    ).rejects.toBeInstanceOf(NotFoundError);

    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        resources.update(tenantId, 'orders', record.id, { n: i }, 2, now()),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);

    await resources.delete(tenantId, 'orders', record.id);
    expect(await resources.get(tenantId, 'orders', record.id)).toBeUndefined();
    await expect(resources.delete(tenantId, 'orders', record.id)).rejects.toBeInstanceOf(NotFoundError);

    const many = Array.from({ length: 5 }, () => resource(tenantId));
    for (const r of many) await resources.create(r);
    await resources.create(resource(tenantId, 'tickets'));
    const listed = await all((cursor) =>
      resources.list(tenantId, 'orders', { limit: 2, ...(cursor ? { cursor } : {}) }),
    );
    expect(listed.items.map((r) => r.id)).toEqual(many.map((r) => r.id).sort());

    const other = newId('tenant');
    expect((await resources.list(other, 'orders', { limit: 10 })).items).toEqual([]);
    await expect(resources.delete(other, 'orders', many[0]?.id ?? '')).rejects.toBeInstanceOf(NotFoundError);
    const page = await resources.list(tenantId, 'orders', { limit: 1 });
    await expect(
      resources.list(other, 'orders', { limit: 1, cursor: page.nextCursor ?? '' }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      resources.list(tenantId, 'tickets', { limit: 1, cursor: page.nextCursor ?? '' }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('bookings on DynamoDB Local', () => {
  const booking = (
    tenantId: string,
    start: string,
    durationMinutes: number,
    overrides: Partial<Booking> = {},
  ): Booking => ({
    id: newId('booking'),
    tenantId,
    agentId: 'agt_a',
    start,
    durationMinutes,
    service: 'cleaning',
    createdBy: 'usr_1',
    createdAt: now(),
    ...overrides,
  });
  const slotsOf = async (tenantId: string, agentId = 'agt_a') =>
    (
      await table.client.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `T#${tenantId}#AGENT#${agentId}#SLOTS` },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];

  it('books, refuses an overlap naming the taken slot, and writes nothing of the refused booking', async () => {
    const tenantId = newId('tenant');
    const first = booking(tenantId, '2025-06-02T09:00:00.000Z', 45);
    await bookings.book(first);
    expect(await slotsOf(tenantId)).toHaveLength(3);

    const overlapping = booking(tenantId, '2025-06-02T08:30:00.000Z', 60);
    const refusal = await bookings.book(overlapping).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect(refusal).toMatchObject({
      details: { slot: '2025-06-02T09:00:00.000Z', bookingId: first.id },
    });
    expect((refusal as Error).message).toContain('2025-06-02T09:00:00.000Z');
    // Neither the booking nor its free 08:30 and 08:45 slots were written.
    expect(await slotsOf(tenantId)).toHaveLength(3);
    const day = await bookings.listBetween(tenantId, 'agt_a', '2025-06-02T00:00:00Z', '2025-06-03T00:00:00Z');
    expect(day.map((b) => b.id)).toEqual([first.id]);
    expect(day[0]).toEqual(first);

    // Back to back is fine; a grain shared by a misaligned start is not.
    await bookings.book(booking(tenantId, '2025-06-02T09:45:00.000Z', 15));
    await expect(bookings.book(booking(tenantId, '2025-06-02T09:55:00.000Z', 10))).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(bookings.book(first)).rejects.toBeInstanceOf(ConflictError);
    await expect(bookings.book(booking(tenantId, '2025-06-02T12:00:00.000Z', 0))).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('keeps a calendar per agent and per location', async () => {
    const tenantId = newId('tenant');
    const start = '2025-06-03T10:00:00.000Z';
    await bookings.book(booking(tenantId, start, 30, { locationId: 'loc_1' }));
    await bookings.book(booking(tenantId, start, 30, { locationId: 'loc_2' }));
    await bookings.book(booking(tenantId, start, 30));
    await bookings.book(booking(tenantId, start, 30, { agentId: 'agt_b' }));
    await expect(bookings.book(booking(tenantId, start, 30, { locationId: 'loc_1' }))).rejects.toMatchObject({
      statusCode: 409,
      details: { locationId: 'loc_1', slot: start },
    });
    await bookings.book(booking(newId('tenant'), start, 30));
  });

  it('lets exactly one of 8 concurrent overlapping bookings through', async () => {
    const tenantId = newId('tenant');
    // Starts 14:00 … 14:14, 30 minutes each: every one of them needs the 14:15 grain.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        bookings.book(booking(tenantId, `2025-06-04T14:${String(i * 2).padStart(2, '0')}:00.000Z`, 30)),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof ConflictError)).toBe(true);
    const held = await bookings.listBetween(
      tenantId,
      'agt_a',
      '2025-06-04T00:00:00Z',
      '2025-06-05T00:00:00Z',
    );
    expect(held).toHaveLength(1);
    const slots = await slotsOf(tenantId);
    expect(new Set(slots.map((s) => s.bookingId))).toEqual(new Set([held[0]?.id]));
  });

  it('lists bookings overlapping [from, to), including those that started before from', async () => {
    const tenantId = newId('tenant');
    const early = booking(tenantId, '2025-06-05T08:00:00.000Z', 120);
    const inside = booking(tenantId, '2025-06-05T11:00:00.000Z', 30);
    const atTo = booking(tenantId, '2025-06-05T12:00:00.000Z', 30);
    const endsAtFrom = booking(tenantId, '2025-06-05T07:00:00.000Z', 60);
    for (const b of [early, inside, atTo, endsAtFrom]) await bookings.book(b);
    const window = await bookings.listBetween(
      tenantId,
      'agt_a',
      '2025-06-05T09:00:00Z',
      '2025-06-05T12:00:00Z',
    );
    expect(window.map((b) => b.id)).toEqual([early.id, inside.id]);
    expect(
      await bookings.listBetween(tenantId, 'agt_b', '2025-06-05T00:00:00Z', '2025-06-06T00:00:00Z'),
    ).toEqual([]);
    expect(
      await bookings.listBetween(newId('tenant'), 'agt_a', '2025-06-05T00:00:00Z', '2025-06-06T00:00:00Z'),
    ).toEqual([]);
  });
});
