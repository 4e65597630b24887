import { DynamoTenantRepository } from '../../lambdas/adapters/dynamodb/tenant-repository';
import { buildProvisioningDeps } from '../../lambdas/composition/provisioning';
import { inTenantScope } from '../../lambdas/composition/tenant-scope';
import { getAgent } from '../../lambdas/domain/agents/agents';
import {
  type ProvisionAgentInput,
  type ProvisioningRecord,
  provisionAgentBody,
} from '../../lambdas/domain/provisioning/model';
import type { ProvisioningDeps } from '../../lambdas/domain/provisioning/ports';
import { releaseProvisionedResources } from '../../lambdas/domain/provisioning/release';
import { provisionAgent, type StartDeps } from '../../lambdas/domain/provisioning/start';
import type { Principal } from '../../lambdas/domain/shared/principal';
import { LocalProvisioningProviders } from '../../local/provisioning-providers';
import { LocalProvisioningWorkflow } from '../../local/provisioning-workflow';
import type { JsonValue, TaskHandler } from '../../local/step-functions';
import { dynamoEndpoint, freshTable } from '../support/dynamodb';
import { seedTenant } from '../support/tenants';

/**
 * statemachines/provision-agent.asl.json as local mode runs it (aws-local-stepfunctions), its Tasks
 * invoking the real provision step handler over the real composition on DynamoDB Local, the
 * providers being local stand-ins that record every call. Each test gets fresh stand-ins, so what
 * a provisioning claimed, created or changed — and what its compensation gave back — is exact.
 */

let owner: Principal;
let base: ProvisioningDeps;

beforeAll(async () => {
  const table = await freshTable();
  Object.assign(process.env, {
    TABLE_NAME: table.tableName,
    DYNAMODB_ENDPOINT: dynamoEndpoint(),
    OUTBOUND_MODE: 'outbox',
  });
  delete process.env.PROVISIONING_STATE_MACHINE_ARN;
  owner = await seedTenant(new DynamoTenantRepository(table.client, table.tableName), 'Clinic');
  base = buildProvisioningDeps();
}, 60_000);

interface Harness {
  readonly providers: LocalProvisioningProviders;
  readonly workflow: LocalProvisioningWorkflow;
  readonly deps: StartDeps;
  /** Every step Lambda invocation, in order: `<step>` or `<step>:<key of the step it ran>`. */
  readonly invocations: string[];
}

let harnesses = 0;

function harness(): Harness {
  harnesses += 1;
  // Numbers are global too: each harness's Connect hands out its own.
  const numbers = Array.from(
    { length: 5 },
    (_, i) => `+1555020${String(harnesses * 10 + i).padStart(4, '0')}`,
  );
  const providers = new LocalProvisioningProviders({ numbers });
  const invocations: string[] = [];
  let deps!: StartDeps;
  const wrap =
    (handler: TaskHandler): TaskHandler =>
    async (input: JsonValue) => {
      const event = input as { step: string; index?: number };
      try {
        const result = (await handler(input)) as { key?: string };
        invocations.push(result?.key ? `${event.step}:${result.key}` : event.step);
        return result;
      } catch (error) {
        invocations.push(`${event.step}!${event.index ?? ''}`);
        throw error;
      }
    };
  const workflow = new LocalProvisioningWorkflow({ deps: () => deps, retryIntervalMs: 0, wrap });
  deps = { ...base, providers: providers.providers, workflow };
  return { providers, workflow, deps, invocations };
}

/** Addresses are global (one agent each): every provisioning of the file gets its own. */
let serial = 0;
let SMS = '';
let TEAM = '';

const FOUR_CHANNELS = (): ProvisionAgentInput => {
  serial += 1;
  SMS = `+1415555${String(1000 + serial)}`;
  TEAM = `T0CLINIC${serial}`;
  return provisionAgentBody().parse({
    agent: {
      name: 'Reception',
      businessType: 'dental',
      model: { provider: 'scripted', modelId: 'scripted-v1' },
    },
    channels: [
      { type: 'voice', phoneNumber: { countryCode: 'US', type: 'DID' } },
      { type: 'sms', address: SMS, credentials: { accountSid: 'AC123', authToken: 'tok-sms' } },
      { type: 'telegram', credentials: { botToken: '123456:ABCdef' } },
      { type: 'slack', credentials: { botToken: `xoxb-${TEAM}-1`, signingSecret: 'sign-1' } },
    ],
  });
};

/** The steps of the four-channel plan, in order. */
const PLAN = [
  'agent:create-agent',
  'voice:claim-number',
  'voice:create-flow',
  'voice:associate-flow',
  'voice:configure-channel',
  'sms:check-credentials',
  'sms:point-webhooks',
  'sms:configure-channel',
  'telegram:configure-channel',
  'slack:check-credentials',
  'slack:configure-channel',
  'agent:init-context',
  'agent:activate',
];
const WITHOUT_UNDO = new Set([
  'agent:create-agent',
  'sms:check-credentials',
  'slack:check-credentials',
  'agent:activate',
]);

async function provision(h: Harness, input: ProvisionAgentInput, key?: string): Promise<ProvisioningRecord> {
  const started = await inTenantScope(owner.tenantId, () => provisionAgent(h.deps, owner, input, key));
  await h.workflow.idle();
  const record = await inTenantScope(owner.tenantId, () =>
    base.records.get(owner.tenantId, started.provisioningId),
  );
  if (!record) throw new Error('no record');
  return record;
}

const routeOf = (channel: 'voice' | 'sms' | 'telegram' | 'slack', address: string) =>
  base.channels.directory.resolve(channel, address);

describe('provision-agent workflow (the ASL file, in-process)', () => {
  it('puts an agent on voice, SMS, Telegram and Slack: every step done, addresses routed, agent active', async () => {
    const h = harness();
    const record = await provision(h, FOUR_CHANNELS());

    expect(record.status).toBe('succeeded');
    expect(record.steps.map((s) => s.key)).toEqual(PLAN);
    expect(record.steps.every((s) => s.status === 'done' && s.startedAt && s.finishedAt)).toBe(true);
    const created = Object.fromEntries(record.steps.map((s) => [s.key, s.created ?? {}]));
    const number = created['voice:claim-number']?.phoneNumber as string;
    expect(number).toMatch(/^\+1555020\d{4}$/);
    expect(h.providers.associations.get(created['voice:claim-number']?.phoneNumberId as string)).toBe(
      created['voice:create-flow']?.flowId,
    );
    // The flow is the voice template's document.
    const flow = JSON.parse(
      h.providers.flows.get(created['voice:create-flow']?.flowId as string)?.content ?? '{}',
    );
    expect(flow.Version).toBe('2019-10-30');
    // Built with the voice channel's Lambda and bot as the starting side gave them (kept on the record).
    expect(record.voiceFlow?.voiceLambdaArn).toMatch(/^arn:aws:lambda:/);
    expect(JSON.stringify(flow)).toContain(record.voiceFlow?.voiceLambdaArn as string);
    expect(JSON.stringify(flow)).toContain(record.voiceFlow?.botAliasArn as string);
    expect(created['sms:point-webhooks']).toEqual({
      inboundUrl: 'http://localhost:3000/v1/webhooks/twilio/sms',
      statusUrl: 'http://localhost:3000/v1/webhooks/twilio/status',
    });
    expect(created['sms:check-credentials']?.previousInboundUrl).toBe('https://previous-app.example/sms');
    expect(created['slack:check-credentials']?.teamId).toBe(TEAM);
    expect(created['telegram:configure-channel']?.webhookUrl).toMatch(
      /\/v1\/webhooks\/telegram\/[A-Za-z0-9_-]+$/,
    );

    // Routed: each address leads to this tenant's agent.
    const telegramKey = created['telegram:configure-channel']?.address as string;
    for (const [channel, address] of [
      ['voice', number],
      ['sms', SMS],
      ['telegram', telegramKey],
      ['slack', TEAM],
    ] as const) {
      expect(await routeOf(channel, address)).toEqual({
        channel,
        address,
        tenantId: owner.tenantId,
        agentId: record.agentId,
      });
    }
    await inTenantScope(owner.tenantId, async () => {
      const agent = await getAgent(base, owner, record.agentId);
      expect(agent.status).toBe('active');
      expect(agent.channels.map((c) => c.type).sort()).toEqual(['slack', 'sms', 'telegram', 'voice']);
      // Credentials in the agent's channel secrets; the staged copies gone.
      expect(await base.channels.secrets.get(owner.tenantId, record.agentId, 'sms')).toEqual({
        accountSid: 'AC123',
        authToken: 'tok-sms',
      });
      expect(await base.channels.secrets.get(owner.tenantId, record.id, 'sms')).toBeUndefined();
      expect(await base.channels.secrets.get(owner.tenantId, record.id, 'slack')).toBeUndefined();
    });
    // Connect was asked one thing at a time, in the order of the plan.
    expect(h.providers.calls.filter((c) => c.provider === 'connect').map((c) => c.operation)).toEqual([
      'ClaimPhoneNumber',
      'CreateContactFlow',
      'AssociatePhoneNumberContactFlow',
    ]);
    expect(JSON.stringify(record)).not.toMatch(/tok-sms|sign-1|ABCdef/);
  });

  it.each(PLAN)(
    'a failure at %s undoes exactly the completed steps, in reverse, and marks the agent error',
    async (failing) => {
      const h = harness();
      const record = await provision(h, { ...FOUR_CHANNELS(), simulate: { failStep: failing } });
      const at = PLAN.indexOf(failing);

      expect(record.status).toBe('failed');
      expect(record.failure).toEqual({
        step: failing,
        reason: expect.stringContaining(`simulated failure of ${failing}`),
      });
      const expectedUndone = PLAN.slice(0, at)
        .filter((key) => !WITHOUT_UNDO.has(key))
        .reverse();
      expect(h.invocations.filter((i) => i.startsWith('undo:')).map((i) => i.slice('undo:'.length))).toEqual(
        expectedUndone,
      );
      for (const [i, step] of record.steps.entries()) {
        const expected =
          i < at ? (WITHOUT_UNDO.has(step.key) ? 'done' : 'compensated') : i === at ? 'failed' : 'pending';
        expect([step.key, step.status]).toEqual([step.key, expected]);
      }
      // Nothing left behind at the providers or in the directory.
      expect(h.providers.claimed.size).toBe(0);
      expect(h.providers.flows.size).toBe(0);
      expect(h.providers.associations.size).toBe(0);
      expect(
        h.providers.twilioNumbers.get(`sms:${SMS}`) ?? {
          inboundUrl: 'https://previous-app.example/sms',
          statusUrl: 'https://previous-app.example/status',
        },
      ).toEqual({
        inboundUrl: 'https://previous-app.example/sms',
        statusUrl: 'https://previous-app.example/status',
      });
      expect(await routeOf('sms', SMS)).toBeUndefined();
      expect(await routeOf('slack', TEAM)).toBeUndefined();
      await inTenantScope(owner.tenantId, async () => {
        expect(await base.channels.secrets.get(owner.tenantId, record.id, 'sms')).toBeUndefined();
        expect(await base.channels.secrets.get(owner.tenantId, record.agentId, 'sms')).toBeUndefined();
        if (at > 0) {
          const agent = await getAgent(base, owner, record.agentId);
          expect(agent.status).toBe('error');
          expect(agent.statusReason).toContain(failing);
        }
      });
    },
  );

  it('a compensation that keeps failing is retried, then recorded (leftBehind); the others still run', async () => {
    const h = harness();
    const record = await provision(h, {
      ...FOUR_CHANNELS(),
      simulate: { failStep: 'telegram:configure-channel', failCompensationOf: 'voice:create-flow' },
    });
    expect(record.status).toBe('failed');
    const flowStep = record.steps.find((s) => s.key === 'voice:create-flow');
    expect(flowStep?.status).toBe('compensation-failed');
    expect(flowStep?.compensationError).toContain('simulated failure undoing voice:create-flow');
    // Tried once and retried 3 times (the ASL's Retry) before it was recorded.
    expect(h.invocations.filter((i) => i === `undo!${PLAN.indexOf('voice:create-flow')}`)).toHaveLength(4);
    expect(h.invocations).toContain('record-undo-failure:voice:create-flow');
    // The steps before and after it in the reverse order were still undone.
    expect(record.steps.find((s) => s.key === 'voice:claim-number')?.status).toBe('compensated');
    expect(record.steps.find((s) => s.key === 'sms:point-webhooks')?.status).toBe('compensated');
    expect(h.providers.claimed.size).toBe(0);
    expect(h.providers.flows.size).toBe(1);
    const view = await inTenantScope(owner.tenantId, async () =>
      (await import('../../lambdas/domain/provisioning/model')).provisioningView(record),
    );
    expect(view.leftBehind).toEqual(['voice:create-flow']);
  });

  it('starting the same provisioning twice runs it once (execution named after it; same Idempotency-Key, same provisioning)', async () => {
    const h = harness();
    const input = FOUR_CHANNELS();
    const first = await inTenantScope(owner.tenantId, () =>
      provisionAgent(h.deps, owner, input, 'key-dup-1'),
    );
    const second = await inTenantScope(owner.tenantId, () =>
      provisionAgent(h.deps, owner, input, 'key-dup-1'),
    );
    await h.workflow.start({ tenantId: owner.tenantId, provisioningId: first.provisioningId });
    await h.workflow.idle();
    expect(second).toEqual(first);
    expect(h.workflow.started).toBe(1);
    expect(h.providers.calls.filter((c) => c.operation === 'ClaimPhoneNumber')).toHaveLength(1);
    expect(h.invocations.filter((i) => i === 'plan')).toHaveLength(1);
    // The same key with another request is refused.
    await expect(
      inTenantScope(owner.tenantId, () =>
        provisionAgent(h.deps, owner, { ...input, agent: { ...input.agent, name: 'Other' } }, 'key-dup-1'),
      ),
    ).rejects.toMatchObject({ statusCode: 409 });
  });

  it('a workflow that cannot start leaves a failed record and no staged credentials, never one running forever', async () => {
    const h = harness();
    const deps: StartDeps = {
      ...h.deps,
      workflow: {
        start: async () => {
          throw new Error('StartExecution: service unavailable');
        },
      },
    };
    await expect(
      inTenantScope(owner.tenantId, () => provisionAgent(deps, owner, FOUR_CHANNELS(), 'key-nostart')),
    ).rejects.toThrow('service unavailable');
    // The same request again (same key) answers the failed provisioning; it is not run.
    serial -= 1;
    const again = await inTenantScope(owner.tenantId, () =>
      provisionAgent(h.deps, owner, FOUR_CHANNELS(), 'key-nostart'),
    );
    await h.workflow.idle();
    expect(again.status).toBe('failed');
    expect(h.workflow.started).toBe(0);
    const record = await inTenantScope(owner.tenantId, () =>
      base.records.get(owner.tenantId, again.provisioningId),
    );
    expect(record?.failure?.reason).toContain('could not be started');
    await inTenantScope(owner.tenantId, async () => {
      expect(await base.channels.secrets.get(owner.tenantId, again.provisioningId, 'sms')).toBeUndefined();
      expect(await base.channels.secrets.get(owner.tenantId, again.provisioningId, 'slack')).toBeUndefined();
    });
  });

  it('a throttled Connect call is retried with backoff until it passes', async () => {
    const h = harness();
    h.providers.failNext('ClaimPhoneNumber', { kind: 'throttled', times: 3 });
    h.providers.failNext('AssociatePhoneNumberContactFlow', { kind: 'throttled', times: 2 });
    const record = await provision(h, FOUR_CHANNELS());
    expect(record.status).toBe('succeeded');
    expect(h.providers.calls.filter((c) => c.operation === 'ClaimPhoneNumber')).toHaveLength(4);
    expect(h.providers.calls.filter((c) => c.operation === 'AssociatePhoneNumberContactFlow')).toHaveLength(
      3,
    );
    // One number, claimed once for this provisioning (the client token).
    expect(h.providers.claimed.size).toBe(1);
  });

  it('throttling that never ends fails the step with the reason and compensates', async () => {
    const h = harness();
    h.providers.failNext('CreateContactFlow', { kind: 'throttled', times: 100 });
    const record = await provision(h, FOUR_CHANNELS());
    expect(record.status).toBe('failed');
    expect(record.failure?.step).toBe('voice:create-flow');
    expect(record.failure?.reason).toContain('ThrottlingException');
    expect(record.steps.find((s) => s.key === 'voice:claim-number')?.status).toBe('compensated');
    expect(h.providers.claimed.size).toBe(0);
  });

  it('deleting the agent releases what provisioning made through the same compensations, in reverse', async () => {
    const h = harness();
    const record = await provision(h, FOUR_CHANNELS());
    const number = record.steps[1]?.created?.phoneNumber as string;
    h.providers.calls.length = 0;
    const result = await inTenantScope(owner.tenantId, () =>
      releaseProvisionedResources(h.deps, owner, record.agentId),
    );
    expect(result.failed).toEqual([]);
    expect(h.providers.calls.map((c) => c.operation)).toEqual([
      'IncomingPhoneNumbers.update',
      'DisassociatePhoneNumberContactFlow',
      'DeleteContactFlow',
      'ReleasePhoneNumber',
    ]);
    expect(h.providers.twilioNumbers.get(`sms:${SMS}`)).toEqual({
      inboundUrl: 'https://previous-app.example/sms',
      statusUrl: 'https://previous-app.example/status',
    });
    expect(await routeOf('voice', number)).toBeUndefined();
    expect(await routeOf('sms', SMS)).toBeUndefined();
    const after = await inTenantScope(owner.tenantId, () => base.records.get(owner.tenantId, record.id));
    expect(after?.releasedAt).toBeDefined();
    expect(after?.steps.filter((s) => s.status === 'released').map((s) => s.key)).toEqual(
      PLAN.filter((k) => !WITHOUT_UNDO.has(k)),
    );
  });
});
