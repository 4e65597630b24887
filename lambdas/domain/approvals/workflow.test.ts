import type { ActionDeps } from '../actions/deps';
import type { AuditEntry, AuditLog } from '../audit/model';
import type { DomainEvent } from '../events/events';
import type { Approval, ApprovalOutcome, ApprovalRepository, ApprovalStatus } from './model';
import {
  APPROVALS_ACTOR,
  approvalMessage,
  attachDecisionToken,
  checkDecision,
  closeUnapproved,
  executeApproved,
  notifyApprovers,
  recordApprovalRequest,
  summariseParams,
} from './workflow';

// The action side (executing, closing, tokens) is execute.ts's, with its own tests: here only
// what the workflow steps hand it is checked.
jest.mock('../actions/execute', () => ({
  // The audit and event helpers are the real ones: only running and closing actions is faked.
  ...jest.requireActual('../actions/execute'),
  executeApprovedAction: jest.fn(async () => ({ outcome: 'executed' })),
  closeAction: jest.fn(async (_deps: unknown, _t: string, _a: string, outcome: string) => ({ outcome })),
}));
const execute = jest.requireMock('../actions/execute') as {
  executeApprovedAction: jest.Mock;
  closeAction: jest.Mock;
};

const TENANT = 'ten_01J0000000000000000000000A';
const NOW = new Date('2026-05-01T10:00:00.000Z');

function approval(overrides: Partial<Approval> = {}): Approval {
  return {
    id: 'apr_01J0000000000000000000000A',
    tenantId: TENANT,
    actionId: 'act_01J0000000000000000000000A',
    agentId: 'agt_01J0000000000000000000000A',
    action: 'take_payment',
    params: { amountMinor: 25_000, currency: 'EUR', description: 'Crown, upper left' },
    level: 'approval',
    reason: 'Payments above 100.00 need approval',
    status: 'pending',
    requestedBy: 'usr_01J0000000000000000000000A',
    createdAt: '2026-05-01T09:30:00.000Z',
    expiresAt: '2026-05-01T10:30:00.000Z',
    updatedAt: '2026-05-01T09:30:00.000Z',
    ...overrides,
  };
}

class MemoryApprovals implements ApprovalRepository {
  readonly items = new Map<string, Approval>();
  readonly tokens = new Map<string, string>();
  async create(a: Approval) {
    this.items.set(a.id, a);
  }
  async get(_tenantId: string, id: string) {
    return this.items.get(id);
  }
  async list() {
    return { items: [...this.items.values()] };
  }
  async listPending() {
    return [...this.items.values()].filter((a) => a.status === 'pending');
  }
  async attachTaskToken(_tenantId: string, id: string, token: string, executionId: string) {
    const found = this.items.get(id);
    if (found?.status !== 'pending') return false;
    this.tokens.set(id, token);
    this.items.set(id, { ...found, workflowExecutionId: executionId });
    return true;
  }
  async taskToken(_tenantId: string, id: string) {
    return this.tokens.get(id);
  }
  async decide(
    _tenantId: string,
    id: string,
    to: Exclude<ApprovalStatus, 'pending'>,
    by: { userId: string; at: string; comment?: string },
  ) {
    const found = this.items.get(id);
    if (!found) return { refusedFrom: 'missing' as const };
    if (found.status !== 'pending') return { refusedFrom: found.status };
    const decided: Approval = {
      ...found,
      status: to,
      decidedBy: by.userId,
      decidedAt: by.at,
      ...(by.comment ? { comment: by.comment } : {}),
    };
    this.items.set(id, decided);
    return { approval: decided };
  }
}

class MemoryAudit implements AuditLog {
  readonly entries: AuditEntry[] = [];
  async append(entries: readonly AuditEntry[]) {
    this.entries.push(...entries);
  }
  async list(tenantId: string, query: { type?: string; actionId?: string }) {
    return {
      items: this.entries.filter(
        (e) =>
          e.tenantId === tenantId &&
          (!query.type || e.type === query.type) &&
          (!query.actionId || e.actionId === query.actionId),
      ),
    };
  }
}

function setup(stored: Approval | null = approval()) {
  const approvals = new MemoryApprovals();
  if (stored) approvals.items.set(stored.id, stored);
  const audit = new MemoryAudit();
  const events: DomainEvent[] = [];
  const notified: { tenantId: string; message: Record<string, unknown> }[] = [];
  const resumed: { token: string; outcome: ApprovalOutcome }[] = [];
  const errors: string[] = [];
  let failPublish = false;
  let failNotify: Error | undefined;
  const deps = {
    approvals,
    audit,
    billing: {
      events: {
        publish: async (batch: readonly DomainEvent[]) => {
          if (failPublish) throw new Error('bus down');
          events.push(...batch);
        },
      },
    },
    ports: {
      coordinators: {
        notify: async (tenantId: string, message: Record<string, unknown>) => {
          if (failNotify) throw failNotify;
          notified.push({ tenantId, message });
          return { recipients: 2 };
        },
      },
    },
    workflow: {
      start: async () => ({ executionId: 'x' }),
      resume: async (token: string, outcome: ApprovalOutcome) => {
        resumed.push({ token, outcome });
        return true;
      },
      heartbeat: async () => true,
    },
    now: () => NOW,
    log: { error: (message: string) => errors.push(message) },
  } as unknown as ActionDeps;
  return {
    deps,
    approvals,
    audit,
    events,
    notified,
    resumed,
    errors,
    failPublish: () => {
      failPublish = true;
    },
    failNotify: (error: Error) => {
      failNotify = error;
    },
  };
}

const ids = (a: Approval = approval()) => ({ tenantId: a.tenantId, approvalId: a.id, actionId: a.actionId });

beforeEach(() => jest.clearAllMocks());

describe('recordApprovalRequest', () => {
  it('publishes approval.requested and appends the audit entry, once however often it runs', async () => {
    const { deps, audit, events } = setup();
    const input = { ...ids(), executionId: 'arn:aws:states:eu-west-1:1:execution:m:apr_1' };
    await expect(recordApprovalRequest(deps, input)).resolves.toEqual({ outcome: 'recorded' });
    await expect(recordApprovalRequest(deps, input)).resolves.toEqual({ outcome: 'already_recorded' });
    expect(events.map((e) => e.type)).toEqual(['approval.requested']);
    expect(events[0]?.detail).toMatchObject({
      tenantId: TENANT,
      approvalId: approval().id,
      actionId: approval().actionId,
      action: 'take_payment',
      level: 'approval',
      expiresAt: approval().expiresAt,
    });
    expect(audit.entries).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({
      type: 'approval.requested',
      actor: { kind: 'system', id: APPROVALS_ACTOR },
      approvalId: approval().id,
      actionId: approval().actionId,
      outcome: 'pending',
      // The execution's name, not its ARN (account, region): tenants read the audit log.
      details: { action: 'take_payment', workflowExecutionId: 'apr_1' },
    });
    expect(audit.entries[0]?.id).toMatch(/^aud_/);
  });

  it('throws when the event cannot be published, so the state machine retries', async () => {
    const { deps, audit, failPublish } = setup();
    failPublish();
    await expect(recordApprovalRequest(deps, { ...ids(), executionId: 'e' })).rejects.toThrow('bus down');
    expect(audit.entries).toEqual([]);
  });

  it('refuses an approval that does not exist, or is another action’s', async () => {
    const missing = setup(null);
    await expect(recordApprovalRequest(missing.deps, { ...ids(), executionId: 'e' })).rejects.toMatchObject({
      name: 'Approval.APPROVAL_NOT_FOUND',
    });
    const { deps } = setup();
    await expect(
      recordApprovalRequest(deps, { ...ids(), actionId: 'act_other', executionId: 'e' }),
    ).rejects.toMatchObject({ name: 'Approval.APPROVAL_MISMATCH' });
  });
});

describe('notifyApprovers', () => {
  it('tells the coordinators what, why, until when and how to decide', async () => {
    const { deps, notified } = setup(approval({ locationId: 'loc_01J0000000000000000000000A' }));
    await expect(notifyApprovers(deps, ids())).resolves.toEqual({ outcome: 'notified', recipients: 2 });
    const [{ tenantId, message }] = notified as [(typeof notified)[number]];
    expect(tenantId).toBe(TENANT);
    expect(message).toMatchObject({
      approvalId: approval().id,
      agentId: approval().agentId,
      locationId: 'loc_01J0000000000000000000000A',
      subject: `Approval needed: take_payment (${approval().id})`,
    });
    const body = message.body as string;
    expect(body).toContain('amountMinor: 25000');
    expect(body).toContain('Payments above 100.00 need approval');
    expect(body).toContain(approval().expiresAt);
    expect(body).toContain(`POST /v1/approvals/${approval().id}/approve`);
    expect(body).toContain(`POST /v1/approvals/${approval().id}/reject`);
  });

  it('does not notify about an approval that is already decided', async () => {
    const { deps, notified } = setup(approval({ status: 'cancelled' }));
    await expect(notifyApprovers(deps, ids())).resolves.toEqual({ outcome: 'skipped', status: 'cancelled' });
    expect(notified).toEqual([]);
  });

  it('lets a failure through, for the state machine to retry or move on', async () => {
    const { deps, failNotify } = setup();
    failNotify(new Error('SES throttled'));
    await expect(notifyApprovers(deps, ids())).rejects.toThrow('SES throttled');
  });

  it('keeps the parameters to a readable length', () => {
    expect(summariseParams({ body: 'x'.repeat(5000) }).length).toBeLessThanOrEqual(600);
    expect(approvalMessage(approval({ level: 'consultation', params: {} })).subject).toMatch(
      /^Consultation needed/,
    );
    expect(approvalMessage(approval({ params: {} })).body).toContain('Parameters: (none)');
  });
});

describe('attachDecisionToken', () => {
  it('stores the token and the execution while the approval is pending', async () => {
    const { deps, approvals, resumed } = setup();
    await expect(
      attachDecisionToken(deps, { ...ids(), taskToken: 'tok-1', executionId: 'exec-1' }),
    ).resolves.toEqual({
      outcome: 'waiting',
    });
    expect(approvals.tokens.get(approval().id)).toBe('tok-1');
    expect(approvals.items.get(approval().id)?.workflowExecutionId).toBe('exec-1');
    expect(resumed).toEqual([]);
  });

  it.each(['approved', 'rejected', 'cancelled'] as const)(
    'resumes at once with the decision when the approval was %s before the token was stored',
    async (status) => {
      const { deps, resumed } = setup(approval({ status }));
      await expect(
        attachDecisionToken(deps, { ...ids(), taskToken: 'tok-2', executionId: 'e' }),
      ).resolves.toEqual({
        outcome: 'resumed',
        status,
      });
      expect(resumed).toEqual([{ token: 'tok-2', outcome: { outcome: status } }]);
    },
  );

  it('fails (for a retry) when the approval is gone', async () => {
    const { deps } = setup(null);
    await expect(
      attachDecisionToken(deps, { ...ids(), taskToken: 't', executionId: 'e' }),
    ).rejects.toMatchObject({
      name: 'Approval.APPROVAL_NOT_FOUND',
    });
  });
});

describe('checkDecision', () => {
  it('is pending before expiresAt, expired from it on, and the decision once decided', async () => {
    expect(await checkDecision(setup().deps, ids())).toEqual({ outcome: 'pending' });
    const due = approval({ expiresAt: NOW.toISOString() });
    expect(await checkDecision(setup(due).deps, ids(due))).toEqual({ outcome: 'expired' });
    const decided = approval({ status: 'approved', expiresAt: '2026-01-01T00:00:00.000Z' });
    expect(await checkDecision(setup(decided).deps, ids(decided))).toEqual({ outcome: 'approved' });
  });
});

describe('executeApproved', () => {
  it('runs the approved action through executeApprovedAction', async () => {
    const { deps } = setup();
    await expect(executeApproved(deps, ids())).resolves.toEqual({ outcome: 'executed' });
    expect(execute.executeApprovedAction).toHaveBeenCalledWith(deps, TENANT, approval().actionId);
  });
});

describe('closeUnapproved', () => {
  it('expires a pending approval (audit, approval.decided), then closes the action as expired', async () => {
    const { deps, approvals, audit, events } = setup();
    await expect(closeUnapproved(deps, { ...ids(), outcome: 'expired' })).resolves.toEqual({
      outcome: 'expired',
    });
    expect(approvals.items.get(approval().id)).toMatchObject({
      status: 'expired',
      decidedBy: APPROVALS_ACTOR,
      decidedAt: NOW.toISOString(),
    });
    expect(audit.entries.map((e) => [e.type, e.outcome])).toEqual([['approval.expired', 'expired']]);
    expect(events.map((e) => [e.type, (e.detail as { outcome: string }).outcome])).toEqual([
      ['approval.decided', 'expired'],
    ]);
    expect(execute.closeAction).toHaveBeenCalledWith(
      deps,
      TENANT,
      approval().actionId,
      'expired',
      APPROVALS_ACTOR,
    );
  });

  it('leaves an approval a coordinator decided meanwhile as it is, and still closes the action', async () => {
    const { deps, approvals, audit, events } = setup(approval({ status: 'approved' }));
    await closeUnapproved(deps, { ...ids(), outcome: 'expired' });
    expect(approvals.items.get(approval().id)?.status).toBe('approved');
    expect(audit.entries).toEqual([]);
    expect(events).toEqual([]);
    expect(execute.closeAction).toHaveBeenCalledWith(
      deps,
      TENANT,
      approval().actionId,
      'expired',
      APPROVALS_ACTOR,
    );
  });

  it('withdraws a still-pending approval when the workflow failed', async () => {
    const { deps, approvals } = setup();
    await expect(closeUnapproved(deps, { ...ids(), outcome: 'failed' })).resolves.toEqual({
      outcome: 'failed',
    });
    expect(approvals.items.get(approval().id)?.status).toBe('cancelled');
  });

  it.each(['rejected', 'cancelled'] as const)(
    'only closes the action when it was %s (already decided)',
    async (outcome) => {
      const { deps, approvals } = setup(approval({ status: outcome }));
      await expect(closeUnapproved(deps, { ...ids(), outcome })).resolves.toEqual({ outcome });
      expect(approvals.items.get(approval().id)?.decidedBy).toBeUndefined();
      expect(execute.closeAction).toHaveBeenCalledWith(
        deps,
        TENANT,
        approval().actionId,
        outcome,
        APPROVALS_ACTOR,
      );
    },
  );

  it('logs, and does not fail on, an audit log or bus that is down once the approval is expired', async () => {
    const { deps, errors, failPublish } = setup();
    failPublish();
    await expect(closeUnapproved(deps, { ...ids(), outcome: 'expired' })).resolves.toEqual({
      outcome: 'expired',
    });
    expect(errors).toEqual(['Could not publish approval.decided']);
  });
});
