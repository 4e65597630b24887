import { ProviderError } from '../actions/ports';
import { createProvisionedAgent, getAgent, nextConfigVersion } from '../agents/agents';
import { configOf } from '../agents/schemas';
import { configureChannel } from '../channels/configure';
import { removeChannel } from '../channels/manage';
import { CHANNEL_KINDS } from '../channels/settings';
import { ConflictError, NotFoundError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import { contactFlow } from '../voice/contact-flow';
import type { PlannedChannel, ProvisioningRecord, ProvisioningStep, StepAction } from './model';
import type { ProvisioningDeps } from './ports';

/**
 * What each step does and how it is undone. A step reads what earlier steps made from the record
 * (`created`), never from the execution's state, so the workflow carries only ids; and each is
 * safe to run again after a lost answer (a claim with the provisioning as its client token, an
 * agent already created, a channel configured again with the same values).
 */

export type Created = Readonly<Record<string, string>>;

export interface StepContext {
  readonly deps: ProvisioningDeps;
  readonly record: ProvisioningRecord;
  readonly step: ProvisioningStep;
  /** The workflow acts for whoever asked for the provisioning. */
  readonly actor: Principal;
}

/** Actions with nothing to undo: they only read, or the failure path itself handles them. */
const NO_UNDO: ReadonlySet<StepAction> = new Set(['create-agent', 'check-credentials', 'activate']);

export function hasUndo(step: ProvisioningStep): boolean {
  if (NO_UNDO.has(step.action)) return false;
  // An identity the tenant already had is theirs: only one this provisioning created is deleted.
  if (step.action === 'check-identity') return step.created?.identityCreated === 'true';
  return true;
}

/** A step that cannot succeed as asked (not retried): its reason is the provisioning's failure. */
export class StepRefusedError extends Error {
  override readonly name = 'StepRefusedError';
}

function channelOf(record: ProvisioningRecord, step: ProvisioningStep): PlannedChannel {
  const channel = record.channels.find((c) => c.type === step.channel);
  if (!channel) throw new StepRefusedError(`the plan has no ${step.channel} channel`);
  return channel;
}

/** What an earlier step of the same channel made. */
function earlier(record: ProvisioningRecord, channel: string, action: StepAction): Created {
  const found = record.steps.find((s) => s.channel === channel && s.action === action);
  if (!found?.created) throw new StepRefusedError(`${channel}:${action} has not run`);
  return found.created;
}

function baseUrl(deps: ProvisioningDeps): string {
  if (!deps.publicBaseUrl) {
    throw new StepRefusedError(
      'this environment has no public base URL (config publicBaseUrl): the provider would have no address to call',
    );
  }
  return deps.publicBaseUrl.replace(/\/+$/, '');
}

/** The channel's credentials: staged by the request, or (deprovisioning, later) the channel's own. */
async function credentialsOf(ctx: StepContext, type: string): Promise<Readonly<Record<string, string>>> {
  const { deps, record } = ctx;
  const secrets = deps.channels.secrets;
  const channel = type as Parameters<typeof secrets.get>[2];
  const staged = await secrets.get(record.tenantId, record.id, channel);
  const found = staged ?? (await secrets.get(record.tenantId, record.agentId, channel));
  if (!found) throw new StepRefusedError(`no ${type} credentials were given`);
  return found;
}

const twilioChannel = (type: string) => (type === 'whatsapp' ? 'whatsapp' : 'sms');
const metaChannel = (type: string) => (type === 'instagram' ? 'instagram' : 'messenger');

export async function doStep(ctx: StepContext): Promise<Created> {
  const { deps, record, step, actor } = ctx;
  const { tenantId, agentId } = record;
  switch (step.action) {
    case 'create-agent': {
      const config = record.agentConfig as Parameters<typeof createProvisionedAgent>[3];
      const agent = await createProvisionedAgent(deps, actor, agentId, config);
      return { agentId: agent.id, name: agent.name };
    }
    case 'claim-number': {
      const { phoneNumber } = channelOf(record, step);
      const claimed = await deps.providers.voice.claimNumber({
        countryCode: phoneNumber?.countryCode ?? 'US',
        type: phoneNumber?.type ?? 'DID',
        clientToken: record.id,
        description: `agent ${agentId} (tenant ${tenantId})`,
      });
      return { phoneNumber: claimed.phoneNumber, phoneNumberId: claimed.phoneNumberId };
    }
    case 'create-flow': {
      const voiceFlow = record.voiceFlow ?? deps.voiceFlow;
      if (!voiceFlow) {
        throw new StepRefusedError(
          'this environment has no voice channel (config voice): no Connect instance',
        );
      }
      const agent = await getAgent(deps, actor, agentId);
      // The agent's greeting and voice come from start-call at each call: one template for all.
      const flow = contactFlow({
        voiceLambdaArn: voiceFlow.voiceLambdaArn,
        botAliasArn: voiceFlow.botAliasArn,
        ...(voiceFlow.humanQueueArn ? { humanQueueArn: voiceFlow.humanQueueArn } : {}),
      });
      const made = await deps.providers.voice.createFlow({
        name: `agent-${agentId}-${record.id}`.slice(0, 127),
        content: JSON.stringify(flow),
        description: `Voice agent ${agent.name} (${agentId})`.slice(0, 500),
      });
      return { flowId: made.flowId, flowArn: made.flowArn };
    }
    case 'associate-flow': {
      const { phoneNumberId, phoneNumber } = earlier(record, 'voice', 'claim-number');
      const { flowId } = earlier(record, 'voice', 'create-flow');
      await deps.providers.voice.associate(phoneNumberId as string, flowId as string);
      return { phoneNumber: phoneNumber as string, flowId: flowId as string };
    }
    case 'check-credentials': {
      const channel = channelOf(record, step);
      const credentials = await credentialsOf(ctx, channel.type);
      if (channel.type === 'slack') {
        const { teamId } = await deps.providers.slack.authTest(credentials.botToken ?? '');
        if (channel.address && channel.address !== teamId) {
          throw new StepRefusedError(
            `the Slack bot token belongs to workspace ${teamId}, not ${channel.address}`,
          );
        }
        return { teamId, eventsUrl: `${baseUrl(deps)}/v1/webhooks/slack` };
      }
      const found = await deps.providers.twilio.findNumber(
        credentials,
        twilioChannel(channel.type),
        channel.address ?? '',
      );
      return {
        numberSid: found.sid,
        previousInboundUrl: found.webhooks.inboundUrl ?? '',
        previousStatusUrl: found.webhooks.statusUrl ?? '',
      };
    }
    case 'point-webhooks': {
      const channel = channelOf(record, step);
      const { numberSid } = earlier(record, channel.type, 'check-credentials');
      const base = baseUrl(deps);
      const webhooks = {
        inboundUrl: `${base}/v1/webhooks/twilio/${twilioChannel(channel.type)}`,
        statusUrl: `${base}/v1/webhooks/twilio/status`,
      };
      await deps.providers.twilio.setWebhooks(
        await credentialsOf(ctx, channel.type),
        twilioChannel(channel.type),
        numberSid as string,
        webhooks,
      );
      return webhooks;
    }
    case 'check-identity': {
      const channel = channelOf(record, step);
      const identity = await deps.providers.email.ensureIdentity(channel.address ?? '');
      if (!identity.receiptRule) {
        throw new StepRefusedError(
          `no active SES receipt rule takes in mail for ${channel.address}: deploy email receiving (config email) for its domain`,
        );
      }
      return {
        identity: identity.identity,
        identityCreated: String(identity.created),
        verified: String(identity.verified),
        receiptRule: identity.receiptRule,
      };
    }
    case 'configure-channel':
      return configureStep(ctx);
    case 'subscribe-page': {
      const channel = channelOf(record, step);
      const credentials = await credentialsOf(ctx, channel.type);
      await deps.providers.meta.subscribe(
        metaChannel(channel.type),
        channel.address ?? '',
        credentials.pageAccessToken ?? '',
      );
      return { accountId: channel.address ?? '', subscribedFields: 'messages' };
    }
    case 'init-context': {
      const channels: Record<string, string> = {};
      for (const done of record.steps) {
        if (done.action === 'configure-channel' && done.created?.address)
          channels[done.channel] = done.created.address;
      }
      await deps.context.put(tenantId, agentId, { channels, initialisedAt: now(deps) });
      return { channels: Object.keys(channels).sort().join(',') };
    }
    case 'activate': {
      const moved = await deps.agents.transition(tenantId, agentId, ['provisioning'], 'active', actor.userId);
      return { status: 'agent' in moved ? moved.agent.status : moved.refusedFrom };
    }
  }
}

const now = (deps: ProvisioningDeps) => (deps.now?.() ?? new Date()).toISOString();

async function configureStep(ctx: StepContext): Promise<Created> {
  const { deps, record, step, actor } = ctx;
  const channel = channelOf(record, step);
  if (channel.type === 'voice') {
    const { phoneNumber } = earlier(record, 'voice', 'claim-number');
    const address = phoneNumber as string;
    const route = { channel: 'voice' as const, address, tenantId: record.tenantId, agentId: record.agentId };
    if (!(await deps.channels.directory.claim(route))) {
      throw new StepRefusedError(`the number ${address} is routed to another agent`);
    }
    await setVoiceEntry(ctx, address);
    return { address };
  }
  const address =
    channel.type === 'slack' ? earlier(record, 'slack', 'check-credentials').teamId : channel.address;
  const kind = CHANNEL_KINDS[channel.type];
  const credentials = kind.credentials.length > 0 ? await credentialsOf(ctx, channel.type) : undefined;
  const view = await configureChannel(deps.channels, actor, record.agentId, channel.type, {
    ...(address ? { address } : {}),
    ...(credentials ? { credentials: pick(credentials, kind.credentials) } : {}),
  });
  return {
    address: view.address,
    ...(view.webhookPath && channel.type !== 'email'
      ? { webhookUrl: `${baseUrl(deps)}${view.webhookPath}` }
      : {}),
  };
}

function pick(values: Readonly<Record<string, string>>, fields: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    fields.filter((f) => values[f] !== undefined).map((f) => [f, values[f] as string]),
  );
}

/** The agent's `channels` entry for voice (its number), added or removed as a new version. */
async function setVoiceEntry(ctx: StepContext, address: string | undefined): Promise<void> {
  const { deps, record, actor } = ctx;
  for (let attempt = 1; ; attempt++) {
    const current = await getAgent(deps, actor, record.agentId);
    const others = current.channels.filter((c) => c.type !== 'voice');
    const channels = address ? [...others, { type: 'voice' as const, enabled: true, address }] : others;
    if (!address && others.length === current.channels.length) return;
    const { next, version } = nextConfigVersion(
      actor,
      current,
      { ...configOf(current), channels },
      address ? 'channel voice provisioned' : 'channel voice released',
    );
    try {
      await deps.agents.saveConfig(next, version, current.version);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 4) throw error;
    }
  }
}

export async function undoStep(ctx: StepContext): Promise<void> {
  const { deps, record, step, actor } = ctx;
  const created = step.created ?? {};
  switch (step.action) {
    case 'claim-number':
      if (created.phoneNumberId) await deps.providers.voice.releaseNumber(created.phoneNumberId);
      return;
    case 'create-flow':
      if (created.flowId) await deps.providers.voice.deleteFlow(created.flowId);
      return;
    case 'associate-flow': {
      const claimed = record.steps.find((s) => s.key === 'voice:claim-number')?.created;
      if (claimed?.phoneNumberId) await deps.providers.voice.disassociate(claimed.phoneNumberId);
      return;
    }
    case 'point-webhooks': {
      const channel = channelOf(record, step);
      const checked = earlier(record, channel.type, 'check-credentials');
      // Back to what the number pointed at before (empty: nothing, as it was).
      await deps.providers.twilio.setWebhooks(
        await credentialsOf(ctx, channel.type),
        twilioChannel(channel.type),
        checked.numberSid as string,
        { inboundUrl: checked.previousInboundUrl ?? '', statusUrl: checked.previousStatusUrl ?? '' },
      );
      return;
    }
    case 'check-identity':
      if (created.identityCreated === 'true' && created.identity) {
        await deps.providers.email.deleteIdentity(created.identity);
      }
      return;
    case 'configure-channel': {
      if (step.channel === 'voice') {
        if (created.address) {
          await deps.channels.directory.release({
            channel: 'voice',
            address: created.address,
            tenantId: record.tenantId,
            agentId: record.agentId,
          });
        }
        await setVoiceEntry(ctx, undefined).catch(ignoreMissingAgent);
        return;
      }
      try {
        await removeChannel(
          deps.channels,
          actor,
          record.agentId,
          step.channel as Exclude<typeof step.channel, 'voice' | 'agent'>,
        );
      } catch (error) {
        ignoreMissingAgent(error);
      }
      return;
    }
    case 'subscribe-page': {
      const channel = channelOf(record, step);
      const credentials = await credentialsOf(ctx, channel.type);
      await deps.providers.meta.unsubscribe(
        metaChannel(channel.type),
        channel.address ?? '',
        credentials.pageAccessToken ?? '',
      );
      return;
    }
    case 'init-context':
      await deps.context.delete(record.tenantId, record.agentId);
      return;
    case 'create-agent':
    case 'check-credentials':
    case 'activate':
      return;
  }
}

/** Already gone (the channel removed by hand, the agent deleted): nothing left to undo. */
function ignoreMissingAgent(error: unknown): void {
  if (!(error instanceof NotFoundError)) throw error;
}

/** Whether trying the same call again may succeed: the ASL's Retry takes these. */
export function isRetryable(error: unknown): boolean {
  return (
    (error instanceof Error && error.name === 'ThrottledError') ||
    (error instanceof ProviderError && error.retryable)
  );
}
