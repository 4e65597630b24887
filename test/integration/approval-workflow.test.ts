import { DynamoAgentRepository } from '../../lambdas/adapters/dynamodb/agent-repository';
import { DynamoLocationRepository } from '../../lambdas/adapters/dynamodb/location-repository';
import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { localOutbox } from '../../lambdas/adapters/local/local-outbox';
import { actionDeps } from '../../lambdas/composition/actions';
import { billingDeps, localEventBus } from '../../lambdas/composition/billing';
import { inTenantScope } from '../../lambdas/composition/tenant-scope';
import type { ActionDeps } from '../../lambdas/domain/actions/deps';
import type { ActionRecord } from '../../lambdas/domain/actions/model';
import { ProviderError } from '../../lambdas/domain/actions/ports';
import { createAgent, runLifecycleCommand } from '../../lambdas/domain/agents/agents';
import { agentCreateBody } from '../../lambdas/domain/agents/schemas';
import { decideApproval } from '../../lambdas/domain/approvals/approvals';
import type { Approval } from '../../lambdas/domain/approvals/model';
import { credit, reserve } from '../../lambdas/domain/billing/billing';
import { newId } from '../../lambdas/domain/shared/ids';
import type { Principal } from '../../lambdas/domain/shared/principal';
import { LocalApprovalWorkflow } from '../../local/approval-workflow';
import { dynamoEndpoint, freshTable } from '../support/dynamodb';
import { ledgerOf } from '../support/ledger';
import { seedTenant } from '../support/tenants';

/**
 * statemachines/approval.asl.json as local mode runs it (aws-local-stepfunctions, the task token
 * emulated), its Tasks invoking the real approval step handler over the real composition on
 * DynamoDB Local, the outbound channels being the local outbox. Each test seeds what the decision
 * engine leaves behind for an approval-level action — the action awaiting approval, its tokens
 * reserved, the pending approval — starts the workflow and decides (or does not) through the
 * approvals use case the API calls.
 */
const COST = 5;
const FUNDED = 100;
const ACTOR = 'test:approvals';

let deps: ActionDeps;
let workflow: LocalApprovalWorkflow;
/** The same, with a wait that times out in 300 ms and checks in rarely. */
let fastTimeout: LocalApprovalWorkflow;
let fastDeps: ActionDeps;
/** The same, checking in every 100 ms (HeartbeatSeconds) instead of every 5 minutes. */
let checkingIn: LocalApprovalWorkflow;
let checkingDeps: ActionDeps;
let owner: Principal;
let agentId: string;

function withWorkflow(options: ConstructorParameters<typeof LocalApprovalWorkflow>[0]) {
  const base = actionDeps();
  const local = new LocalApprovalWorkflow({ ...options, deps: () => localDeps });
  const localDeps: ActionDeps = { ...base, workflow: local };
  return { local, localDeps };
}

beforeAll(async () => {
  const table = await freshTable();
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    DYNAMODB_ENDPOINT: dynamoEndpoint(),
    OUTBOUND_MODE: 'outbox',
  });
  delete process.env.EVENT_BUS_NAME;
  delete process.env.TOKEN_COSTS;
  delete process.env.APPROVAL_STATE_MACHINE_ARN;
  ({ local: workflow, localDeps: deps } = withWorkflow({ retryIntervalMs: 0 }));
  ({ local: fastTimeout, localDeps: fastDeps } = withWorkflow({
    retryIntervalMs: 0,
    timeoutOverridesMs: { WaitForDecision: 300 },
  }));
  ({ local: checkingIn, localDeps: checkingDeps } = withWorkflow({
    retryIntervalMs: 0,
    heartbeatOverridesMs: { WaitForDecision: 100 },
  }));

  owner = await seedTenant(new DynamoTenantRepository(table.client, table.tableName), 'Dental');
  const agentDeps = {
    agents: new DynamoAgentRepository(table.client, table.tableName),
    locations: new DynamoLocationRepository(table.client, table.tableName),
  };
  const agent = await createAgent(
    agentDeps,
    owner,
    agentCreateBody().parse({
      name: 'Front desk',
      businessType: 'dental',
      model: { provider: 'scripted', modelId: 'scripted-v1' },
    }),
  );
  await runLifecycleCommand(agentDeps, owner, agent.id, 'start');
  agentId = agent.id;
  await inTenantScope(owner.tenantId, () =>
    credit(billingDeps(), owner.tenantId, FUNDED, { type: 'grant' }, `seed-${owner.tenantId}`, ACTOR),
  );
}, 60_000);

/**
 * Each test acts as the tenant's own code does (seeding actions, reading balances): in the
 * owner's tenant scope. The workflow's steps set their own scope, as on AWS.
 */
function ownerIt(name: string, test: () => Promise<unknown>, timeout?: number): void {
  it(name, () => inTenantScope(owner.tenantId, test) as Promise<void>, timeout);
}

beforeEach(() => {
  localOutbox.clear();
  localEventBus.recent.length = 0;
});

afterAll(async () => {
  await workflow.stopAll();
  await fastTimeout.stopAll();
  await checkingIn.stopAll();
});

/** What the decision engine leaves for an approval-level send_sms: held tokens, the action, the approval. */
async function seedApproval(
  using: ActionDeps = deps,
  expiresInMs = 3_600_000,
): Promise<{ action: ActionRecord; approval: Approval }> {
  const now = new Date();
  const at = now.toISOString();
  const actionId = newId('action');
  const approvalId = newId('approval');
  const reservation = await reserve(
    billingDeps(),
    owner.tenantId,
    COST,
    { action: 'send_sms', agentId, holdSeconds: 3600 },
    `${actionId}:reserve`,
    owner.userId,
  );
  const action: ActionRecord = {
    id: actionId,
    tenantId: owner.tenantId,
    agentId,
    action: 'send_sms',
    category: 'communication',
    params: { to: '+15551234567', body: 'Your crown is ready for fitting.' },
    status: 'awaiting_approval',
    decision: { level: 'approval', reason: 'Test policy: SMS needs approval' },
    actorUserId: owner.userId,
    cost: COST,
    reservationId: reservation.id,
    approvalId,
    createdAt: at,
    updatedAt: at,
  };
  await using.actions.create(action);
  const approval: Approval = {
    id: approvalId,
    tenantId: owner.tenantId,
    actionId,
    agentId,
    action: 'send_sms',
    params: action.params,
    level: 'approval',
    reason: action.decision.reason,
    status: 'pending',
    requestedBy: owner.userId,
    createdAt: at,
    expiresAt: new Date(now.getTime() + expiresInMs).toISOString(),
    updatedAt: at,
  };
  await using.approvals.create(approval);
  return { action, approval };
}

async function waitForToken(approval: Approval, using: ActionDeps = deps): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const token = await using.approvals.taskToken(approval.tenantId, approval.id);
    if (token) return token;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the workflow of ${approval.id} never waited`);
}

async function available(): Promise<number> {
  return (await billingDeps().billing.getBalance(owner.tenantId))?.available ?? 0;
}

/** Every ledger entry of the tenant adds up to its balance, and nothing is held any more. */
async function expectLedgerBalances(): Promise<void> {
  const entries = await ledgerOf(billingDeps().billing, owner.tenantId);
  const balance = await billingDeps().billing.getBalance(owner.tenantId);
  expect(entries.reduce((sum, entry) => sum + entry.amount, 0)).toBe(balance?.available);
}

const auditTypes = async (using: ActionDeps, actionId: string) =>
  (await using.audit.list(owner.tenantId, { actionId, limit: 50 })).items.map((e) => e.type).sort();

describe('the approval workflow (local Step Functions on DynamoDB Local)', () => {
  ownerIt('approve: records, notifies, waits, then executes the action and settles its tokens', async () => {
    const before = await available();
    const { action, approval } = await seedApproval();
    const { executionId } = await workflow.start({
      tenantId: owner.tenantId,
      approvalId: approval.id,
      actionId: action.id,
    });
    await waitForToken(approval);
    expect((await deps.approvals.get(owner.tenantId, approval.id))?.workflowExecutionId).toBe(executionId);

    await decideApproval(deps, owner, approval.id, 'approved', 'Go ahead');
    await workflow.idle();

    expect(workflow.describe(executionId)).toMatchObject({
      status: 'SUCCEEDED',
      output: { decision: { outcome: 'approved' }, result: { outcome: 'executed' } },
    });
    expect(await deps.actions.get(owner.tenantId, action.id)).toMatchObject({ status: 'executed' });
    expect(localOutbox.list(owner.tenantId, { limit: 10, kind: 'sms' }).items).toEqual([
      expect.objectContaining({ kind: 'sms' }),
    ]);
    // The coordinators were told (the owner is the only one who may decide here), with how to decide.
    expect(localOutbox.list(owner.tenantId, { limit: 10, kind: 'email' }).items).toEqual([
      expect.objectContaining({
        subject: `Approval needed: send_sms (${approval.id})`,
        body: expect.stringContaining(`POST /v1/approvals/${approval.id}/approve`),
      }),
    ]);
    // Held, then charged: the balance is down by the cost, once.
    expect(await available()).toBe(before - COST);
    expect(localEventBus.recent.map((e) => e.type)).toEqual(
      expect.arrayContaining(['approval.requested', 'approval.decided', 'action.executed']),
    );
    expect(await auditTypes(deps, action.id)).toEqual(
      expect.arrayContaining(['approval.requested', 'approval.decided', 'action.executed']),
    );
    await expectLedgerBalances();
  });

  ownerIt('reject: closes the action as rejected and releases its tokens; nothing is sent', async () => {
    const before = await available();
    const { action, approval } = await seedApproval();
    const { executionId } = await workflow.start({
      tenantId: owner.tenantId,
      approvalId: approval.id,
      actionId: action.id,
    });
    await waitForToken(approval);
    expect(await available()).toBe(before - COST);

    await decideApproval(deps, owner, approval.id, 'rejected', 'Not now');
    await workflow.idle();

    expect(workflow.describe(executionId)).toMatchObject({
      status: 'SUCCEEDED',
      output: { result: { outcome: 'rejected' } },
    });
    expect(await deps.actions.get(owner.tenantId, action.id)).toMatchObject({ status: 'rejected' });
    expect(localOutbox.list(owner.tenantId, { limit: 10, kind: 'sms' }).items).toEqual([]);
    expect(await available()).toBe(before);
    await expectLedgerBalances();
  });

  ownerIt('timeout: expires the approval, closes the action as expired and releases its tokens', async () => {
    const before = await available();
    const { action, approval } = await seedApproval(fastDeps);
    const { executionId } = await fastTimeout.start({
      tenantId: owner.tenantId,
      approvalId: approval.id,
      actionId: action.id,
    });
    await fastTimeout.idle();

    expect(fastTimeout.describe(executionId)).toMatchObject({
      status: 'SUCCEEDED',
      output: { error: { Error: 'States.Timeout' }, result: { outcome: 'expired' } },
    });
    expect(await fastDeps.approvals.get(owner.tenantId, approval.id)).toMatchObject({
      status: 'expired',
      decidedBy: 'system:approvals',
    });
    expect(await fastDeps.actions.get(owner.tenantId, action.id)).toMatchObject({ status: 'expired' });
    expect(await available()).toBe(before);
    // A coordinator who comes too late is told it is decided, and the token is no longer waited on.
    await expect(decideApproval(fastDeps, owner, approval.id, 'approved', undefined)).rejects.toMatchObject({
      statusCode: 409,
    });
    const token = await fastDeps.approvals.taskToken(owner.tenantId, approval.id);
    expect(await fastTimeout.resume(token as string, { outcome: 'approved' })).toBe(false);
    expect(await auditTypes(fastDeps, action.id)).toEqual(
      expect.arrayContaining(['approval.requested', 'approval.expired', 'action.expired']),
    );
    await expectLedgerBalances();
  });

  ownerIt(
    'check-in: the wait checks the approval each HeartbeatSeconds and expires it at its own expiresAt',
    async () => {
      const before = await available();
      // Five seconds: the request and the notification must be done, and a check-in have come, before
      // it expires; on a loaded machine (npm test's two workers share one DynamoDB Local) two were
      // not always enough.
      const { action, approval } = await seedApproval(checkingDeps, 5000);
      const { executionId } = await checkingIn.start({
        tenantId: owner.tenantId,
        approvalId: approval.id,
        actionId: action.id,
      });
      const firstToken = await waitForToken(approval, checkingDeps);
      await checkingIn.idle();
      expect(checkingIn.describe(executionId)).toMatchObject({
        status: 'SUCCEEDED',
        output: { decision: { outcome: 'expired' }, result: { outcome: 'expired' } },
      });
      // It waited again after each check-in, with a new token each time.
      expect(await checkingDeps.approvals.taskToken(owner.tenantId, approval.id)).not.toBe(firstToken);
      expect(await checkingDeps.actions.get(owner.tenantId, action.id)).toMatchObject({ status: 'expired' });
      expect(await available()).toBe(before);
      await expectLedgerBalances();
    },
  );

  ownerIt(
    'a decision after expiresAt is refused, even before the check-in expires the approval',
    async () => {
      const { approval } = await seedApproval(deps, -1000);
      await expect(decideApproval(deps, owner, approval.id, 'approved', undefined)).rejects.toMatchObject({
        statusCode: 409,
        details: { status: 'expired' },
      });
      expect(await deps.approvals.get(owner.tenantId, approval.id)).toMatchObject({ status: 'pending' });
    },
  );

  ownerIt(
    'executor failure: a provider that fails marks the action failed and releases its tokens',
    async () => {
      const before = await available();
      const { action, approval } = await seedApproval();
      const { executionId } = await workflow.start({
        tenantId: owner.tenantId,
        approvalId: approval.id,
        actionId: action.id,
      });
      await waitForToken(approval);
      localOutbox.failNext(
        'sms',
        new ProviderError('twilio', false, 'The number is not a mobile number', '21614'),
      );

      await decideApproval(deps, owner, approval.id, 'approved', undefined);
      await workflow.idle();

      expect(workflow.describe(executionId)).toMatchObject({
        status: 'SUCCEEDED',
        output: { result: { outcome: 'failed' } },
      });
      expect(await deps.actions.get(owner.tenantId, action.id)).toMatchObject({
        status: 'failed',
        error: { code: 'PROVIDER_REJECTED' },
      });
      expect(localOutbox.list(owner.tenantId, { limit: 10, kind: 'sms' }).items).toEqual([]);
      expect(await available()).toBe(before);
      expect(localEventBus.recent.map((e) => e.type)).toContain('action.failed');
      await expectLedgerBalances();
    },
  );

  ownerIt(
    'decided before the wait (an emergency stop): the wait step resumes at once and the action is cancelled',
    async () => {
      const before = await available();
      const { action, approval } = await seedApproval();
      await deps.approvals.decide(owner.tenantId, approval.id, 'cancelled', {
        userId: owner.userId,
        at: new Date().toISOString(),
      });
      const { executionId } = await workflow.start({
        tenantId: owner.tenantId,
        approvalId: approval.id,
        actionId: action.id,
      });
      await workflow.idle();
      expect(workflow.describe(executionId)).toMatchObject({
        status: 'SUCCEEDED',
        output: { decision: { outcome: 'cancelled' }, result: { outcome: 'cancelled' } },
      });
      expect(await deps.actions.get(owner.tenantId, action.id)).toMatchObject({ status: 'cancelled' });
      expect(await available()).toBe(before);
      await expectLedgerBalances();
    },
  );

  ownerIt('starts one workflow per approval, however often it is started', async () => {
    const { action, approval } = await seedApproval();
    const input = { tenantId: owner.tenantId, approvalId: approval.id, actionId: action.id };
    const [first, second] = await Promise.all([workflow.start(input), workflow.start(input)]);
    expect(second.executionId).toBe(first.executionId);
    await waitForToken(approval);
    await decideApproval(deps, owner, approval.id, 'rejected', undefined);
    await workflow.idle();
    const requested = (
      await deps.audit.list(owner.tenantId, { actionId: action.id, type: 'approval.requested', limit: 10 })
    ).items;
    expect(requested).toHaveLength(1);
    await expectLedgerBalances();
  });
});
