import * as z from 'zod/mini';
import { agentCreateBody } from '../agents/schemas';
import { MESSAGING_CHANNELS } from '../channels/model';
import { channelCredentials } from '../channels/settings';
import { idSchema } from '../shared/ids';
import { instant, lazySchema, text } from '../shared/zod';

/**
 * Provisioning (DESIGN §3.9): one request puts an agent on its channels through the
 * provision-agent state machine (statemachines/provision-agent.asl.json). The request becomes a
 * provisioning record with a plan — an ordered list of steps, each with its compensation — and the
 * workflow runs the steps one at a time; on a failure it undoes the completed ones in reverse.
 * The record (one item, no secret) is what `GET /v1/provisioning/{id}` shows.
 */

export const PROVISIONABLE_CHANNELS = ['voice', ...MESSAGING_CHANNELS] as const;
export type ProvisionableChannel = (typeof PROVISIONABLE_CHANNELS)[number];

const credentials = () =>
  channelCredentials(
    'Stored in the tenant’s secrets before the workflow starts, never in the table, the execution input or a response. Per type: sms/whatsapp {accountSid, authToken}; slack {botToken, signingSecret}; telegram {botToken}; messenger/instagram {pageAccessToken, appSecret, verifyToken}; email none.',
  );

/** One channel wanted. Voice claims a number; the others take the address and credentials the provider gave. */
export const channelRequestSchema = lazySchema(() =>
  z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('voice'),
      phoneNumber: z._default(
        z.strictObject({
          countryCode: z._default(
            z.string().check(z.regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code')),
            'US',
          ),
          type: z._default(z.enum(['DID', 'TOLL_FREE']), 'DID'),
        }),
        { countryCode: 'US', type: 'DID' },
      ),
    }),
    ...MESSAGING_CHANNELS.map((type) =>
      z.strictObject({
        type: z.literal(type),
        address: z.optional(text(1, 320)),
        credentials: z.optional(credentials()),
      }),
    ),
  ]),
);
export type ChannelRequest = z.output<ReturnType<typeof channelRequestSchema>>;

/**
 * Local mode only: makes one step (or its compensation) fail, to see the workflow undo what it
 * did. Refused with 400 anywhere else.
 */
export const simulateSchema = lazySchema(() =>
  z.strictObject({
    failStep: z.optional(text(3, 60).check(z.meta({ description: 'e.g. "sms:point-webhooks"' }))),
    failCompensationOf: z.optional(text(3, 60)),
  }),
);
export type SimulatedFailures = z.output<ReturnType<typeof simulateSchema>>;

const channelList = () =>
  z.array(channelRequestSchema()).check(
    z.minLength(1),
    z.maxLength(PROVISIONABLE_CHANNELS.length),
    z.refine(
      (channels) => new Set(channels.map((c) => c.type)).size === channels.length,
      'each channel type at most once',
    ),
  );

export const provisionAgentBody = lazySchema(() =>
  z.strictObject({
    agent: agentCreateBody(),
    channels: channelList(),
    simulate: z.optional(simulateSchema()),
  }),
);
export type ProvisionAgentInput = z.output<ReturnType<typeof provisionAgentBody>>;

export const provisionChannelBody = lazySchema(() =>
  z._default(
    z.strictObject({
      address: z.optional(text(1, 320)),
      credentials: z.optional(credentials()),
      phoneNumber: z.optional(
        z.strictObject({
          countryCode: z._default(z.string().check(z.regex(/^[A-Z]{2}$/)), 'US'),
          type: z._default(z.enum(['DID', 'TOLL_FREE']), 'DID'),
        }),
      ),
      simulate: z.optional(simulateSchema()),
    }),
    {},
  ),
);
export type ProvisionChannelInput = z.output<ReturnType<typeof provisionChannelBody>>;

export const provisionChannelParams = lazySchema(() =>
  z.strictObject({ id: idSchema('agent'), type: z.enum(PROVISIONABLE_CHANNELS) }),
);
export const provisioningParams = lazySchema(() => z.strictObject({ id: idSchema('provisioning') }));

export const STEP_STATUSES = [
  'pending',
  'running',
  'done',
  'failed',
  'compensated',
  'compensation-failed',
  'released',
  'release-failed',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const PROVISIONING_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type ProvisioningStatus = (typeof PROVISIONING_STATUSES)[number];

/** The step actions, by the channel they serve (`agent` for the agent's own). */
export const STEP_ACTIONS = [
  'create-agent',
  'claim-number',
  'create-flow',
  'associate-flow',
  'check-credentials',
  'point-webhooks',
  'check-identity',
  'configure-channel',
  'subscribe-page',
  'init-context',
  'activate',
] as const;
export type StepAction = (typeof STEP_ACTIONS)[number];

export interface ProvisioningStep {
  /** `<channel or agent>:<action>`, e.g. `voice:claim-number`: what failStep names. */
  readonly key: string;
  readonly channel: ProvisionableChannel | 'agent';
  readonly action: StepAction;
  readonly status: StepStatus;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** What the step made or changed (phone number, flow id, webhook URL, previous URLs to restore). */
  readonly created?: Readonly<Record<string, string>>;
  readonly error?: string;
  readonly compensatedAt?: string;
  readonly compensationError?: string;
}

/** A channel as the record keeps it: never its credentials (those are staged in the tenant's secrets). */
export interface PlannedChannel {
  readonly type: ProvisionableChannel;
  readonly address?: string;
  readonly phoneNumber?: { readonly countryCode: string; readonly type: 'DID' | 'TOLL_FREE' };
  /** Whether credentials were staged under the provisioning's own secret (tenant/channels/<prv id>/<type>). */
  readonly credentialsStaged: boolean;
}

export interface ProvisioningRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly agentId: string;
  /** `agent`: POST /v1/agents/provision (creates it); `channel`: one channel of an existing agent. */
  readonly kind: 'agent' | 'channel';
  readonly status: ProvisioningStatus;
  readonly channels: readonly PlannedChannel[];
  readonly steps: readonly ProvisioningStep[];
  /** Kind `agent`: the configuration to create the agent from. */
  readonly agentConfig?: unknown;
  readonly simulate?: SimulatedFailures;
  /**
   * Voice: the Lambda, bot alias and queue the agent's contact flow runs, as the starting side knew
   * them (deploy-time ARNs, no secret): the workflow's stack cannot refer to the voice channel's.
   */
  readonly voiceFlow?: {
    readonly voiceLambdaArn: string;
    readonly botAliasArn: string;
    readonly humanQueueArn?: string;
  };
  readonly failure?: { readonly step?: string; readonly reason: string };
  readonly executionId?: string;
  readonly requestHash: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Optimistic lock: every write is conditional on the version read. */
  readonly version: number;
  /** Set when the agent's deletion released what this provisioning made. */
  readonly releasedAt?: string;
}

const stepView = () =>
  z.object({
    key: z.string(),
    channel: z.string(),
    action: z.enum(STEP_ACTIONS),
    status: z.enum(STEP_STATUSES),
    startedAt: z.optional(instant()),
    finishedAt: z.optional(instant()),
    created: z.optional(z.record(z.string(), z.string())),
    error: z.optional(z.string()),
    compensatedAt: z.optional(instant()),
    compensationError: z.optional(z.string()),
  });

export const provisioningResponse = lazySchema(() =>
  z.object({
    id: z.string(),
    agentId: z.string(),
    kind: z.enum(['agent', 'channel']),
    status: z.enum(PROVISIONING_STATUSES),
    channels: z.array(z.object({ type: z.enum(PROVISIONABLE_CHANNELS), address: z.optional(z.string()) })),
    steps: z.array(stepView()),
    failure: z.optional(z.object({ step: z.optional(z.string()), reason: z.string() })),
    /** Steps whose undo failed after retries: what an operator must clean up by hand. */
    leftBehind: z.array(z.string()),
    createdAt: instant(),
    updatedAt: instant(),
    releasedAt: z.optional(instant()),
  }),
);
export type ProvisioningView = z.output<ReturnType<typeof provisioningResponse>>;

export const provisioningStartedResponse = lazySchema(() =>
  z.object({
    provisioningId: z.string(),
    agentId: z.string(),
    status: z.enum(PROVISIONING_STATUSES),
  }),
);

export function provisioningView(record: ProvisioningRecord): ProvisioningView {
  return {
    id: record.id,
    agentId: record.agentId,
    kind: record.kind,
    status: record.status,
    channels: record.channels.map((c) => ({ type: c.type, ...(c.address ? { address: c.address } : {}) })),
    steps: record.steps.map((s) => ({ ...s, ...(s.created ? { created: { ...s.created } } : {}) })),
    ...(record.failure ? { failure: record.failure } : {}),
    leftBehind: record.steps
      .filter((s) => s.status === 'compensation-failed' || s.status === 'release-failed')
      .map((s) => s.key),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.releasedAt ? { releasedAt: record.releasedAt } : {}),
  };
}

/** The steps for one channel, in order. */
export function channelSteps(channel: ProvisionableChannel): StepAction[] {
  switch (channel) {
    case 'voice':
      return ['claim-number', 'create-flow', 'associate-flow', 'configure-channel'];
    case 'sms':
    case 'whatsapp':
      return ['check-credentials', 'point-webhooks', 'configure-channel'];
    case 'slack':
      return ['check-credentials', 'configure-channel'];
    case 'telegram':
      return ['configure-channel'];
    case 'messenger':
    case 'instagram':
      return ['configure-channel', 'subscribe-page'];
    case 'email':
      return ['check-identity', 'configure-channel'];
  }
}

/** The whole plan: create the agent (kind `agent`), each channel, the shared context, active. */
export function planSteps(
  kind: 'agent' | 'channel',
  channels: readonly PlannedChannel[],
): ProvisioningStep[] {
  const step = (channel: ProvisioningStep['channel'], action: StepAction): ProvisioningStep => ({
    key: `${channel}:${action}`,
    channel,
    action,
    status: 'pending',
  });
  return [
    ...(kind === 'agent' ? [step('agent', 'create-agent')] : []),
    ...channels.flatMap((c) => channelSteps(c.type).map((action) => step(c.type, action))),
    step('agent', 'init-context'),
    step('agent', 'activate'),
  ];
}
