import { randomBytes } from 'node:crypto';
import { assertExpectedVersion, getAgent, nextConfigVersion } from '../agents/agents';
import type { AgentRepository } from '../agents/ports';
import type { Agent, AgentConfig } from '../agents/schemas';
import { ConflictError, ValidationError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import type { ChannelDirectory, ChannelRoute, ChannelSecrets, ConfigurableChannel } from './model';
import type { TelegramWebhookRegistry } from './ports';
import {
  CHANNEL_KINDS,
  type ChannelPutBody,
  type ChannelSetting,
  type ChannelSettingChange,
  type ChannelSettingsRepository,
  type ChannelView,
  channelView,
  checkedAddress,
  checkedCredentials,
} from './settings';

export interface ChannelSettingsDeps {
  readonly agents: AgentRepository;
  readonly settings: ChannelSettingsRepository;
  /** Platform-level: the composition runs every call in `inPlatformScope`. */
  readonly directory: ChannelDirectory;
  /** Tenant-level: called inside the caller's tenant scope. */
  readonly secrets: ChannelSecrets;
  /** Tells Telegram where the bot's updates go (setWebhook) and that they stop (deleteWebhook). */
  readonly telegramWebhooks: TelegramWebhookRegistry;
  /** Telegram's channel key and secret token; tests pin it. */
  readonly randomToken?: () => string;
  readonly now?: () => Date;
  /** Never given a credential: only ids, channel types and error messages. */
  readonly log?: { warn(message: string, extra: Record<string, unknown>): void };
}

/** 32 bytes, URL-safe: a Telegram `secret_token` allows [A-Za-z0-9_-]{1,256}. */
const defaultToken = () => randomBytes(32).toString('base64url');

/** Concurrent changes of one agent (two channels at once) retry this often before a 409. */
const SAVE_ATTEMPTS = 4;

/**
 * Writes the agent's configuration with `channels` changed by `edit` and the setting change, in
 * one transaction. Without If-Match, a concurrent change of the agent (another channel configured
 * at the same moment) is re-read and applied on top; with it, a stale version is a 409.
 */
export async function saveChannelChange(
  deps: Pick<ChannelSettingsDeps, 'agents' | 'settings'>,
  actor: Principal,
  agentId: string,
  edit: (channels: AgentConfig['channels']) => AgentConfig['channels'],
  change: ChannelSettingChange,
  reason: string,
  expectedVersion: number | undefined,
): Promise<Agent> {
  for (let attempt = 1; ; attempt++) {
    const current = await getAgent(deps, actor, agentId);
    if (expectedVersion !== undefined) assertExpectedVersion(current, expectedVersion);
    const { id: _i, tenantId: _t, status: _s, statusReason: _r, version: _v, ...rest } = current;
    const { createdAt: _c, updatedAt: _u, createdBy: _cb, updatedBy: _ub, ...config } = rest;
    const { next, version } = nextConfigVersion(
      actor,
      current,
      { ...config, channels: edit(current.channels) },
      reason,
    );
    try {
      await deps.settings.save(next, version, current.version, change);
      return next;
    } catch (error) {
      if (!(error instanceof ConflictError) || expectedVersion !== undefined || attempt >= SAVE_ATTEMPTS) {
        throw error;
      }
    }
  }
}

/** `agent.channels` with `type`'s entry replaced (or added), in the order the entries had. */
function withEntry(
  channels: AgentConfig['channels'],
  entry: AgentConfig['channels'][number],
): AgentConfig['channels'] {
  return channels.some((c) => c.type === entry.type)
    ? channels.map((c) => (c.type === entry.type ? entry : c))
    : [...channels, entry];
}

/**
 * `PUT /v1/agents/{id}/channels/{type}`: configures (or reconfigures) one messaging channel.
 * The address is claimed in the global directory first (409, naming no one, when another agent of
 * any tenant holds it), then the credentials go to the channel secrets and the setting and the
 * agent's `channels` entry are written together; a failure after the claim releases it and puts
 * the previous credentials back. Moving to a new address releases the old one last.
 */
export async function configureChannel(
  deps: ChannelSettingsDeps,
  actor: Principal,
  agentId: string,
  type: ConfigurableChannel,
  body: ChannelPutBody,
  expectedVersion?: number,
): Promise<ChannelView> {
  const tenantId = actor.tenantId;
  const kind = CHANNEL_KINDS[type];
  if (type === 'telegram' && body.credentials !== undefined) telegramBaseUrl(deps);
  const agent = await getAgent(deps, actor, agentId);
  if (expectedVersion !== undefined) assertExpectedVersion(agent, expectedVersion);
  const existing = await deps.settings.get(tenantId, agentId, type);
  const token = deps.randomToken ?? defaultToken;

  const address =
    checkedAddress(type, body.address) ?? existing?.address ?? (kind.address ? undefined : token());
  if (address === undefined) throw ValidationError.forField('body.address', `is required to set up ${type}`);

  const given = body.credentials === undefined ? undefined : checkedCredentials(type, body.credentials);
  if (!existing && kind.credentials.length > 0 && given === undefined) {
    throw ValidationError.forField(
      'body.credentials',
      `${kind.credentials.join(', ')} are required to set up ${type}`,
    );
  }
  const writesSecret = given !== undefined && kind.credentials.length > 0;
  const previous = writesSecret ? await deps.secrets.get(tenantId, agentId, type) : undefined;
  const secret = writesSecret
    ? {
        ...given,
        ...Object.fromEntries((kind.generated ?? []).map((field) => [field, previous?.[field] ?? token()])),
      }
    : undefined;

  const route: ChannelRoute = { channel: type, address, tenantId, agentId };
  const heldBefore = existing?.address === address;
  if (!(await deps.directory.claim(route))) {
    throw new ConflictError(`This ${type} address is already in use by another agent`, {
      field: 'body.address',
    });
  }

  const now = (deps.now?.() ?? new Date()).toISOString();
  const setting: ChannelSetting = {
    agentId,
    type,
    address,
    enabled: body.enabled ?? existing?.enabled ?? true,
    credentialsSet: secret ? Object.keys(secret).sort() : (existing?.credentialsSet ?? []),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    updatedBy: actor.userId,
  };
  // Telegram learns the bot's webhook URL and secret token only from the platform: it is told
  // after the secret is stored (a delivery arriving at once is verified) and before the setting is
  // saved, so a refusal leaves no channel behind that Telegram would never call.
  const telegram = type === 'telegram' && secret ? telegramWebhookOf(deps, address, secret) : undefined;
  let webhookSet = false;
  try {
    if (secret) await deps.secrets.put(tenantId, agentId, type, secret);
    if (telegram) {
      await deps.telegramWebhooks.set(tenantId, agentId, telegram);
      webhookSet = true;
    }
    await saveChannelChange(
      deps,
      actor,
      agentId,
      (channels) => withEntry(channels, { type, enabled: setting.enabled, address }),
      { put: setting },
      existing ? `channel ${type} changed` : `channel ${type} set up`,
      expectedVersion,
    );
  } catch (error) {
    const previousTelegram =
      telegram && previous ? telegramWebhookOf(deps, existing?.address ?? address, previous) : undefined;
    await undo(deps, 'a failed channel set-up', { tenantId, agentId, type }, [
      // The bot goes back to where it pointed before (its previous set-up), or nowhere.
      webhookSet && telegram
        ? () =>
            previousTelegram
              ? deps.telegramWebhooks.set(tenantId, agentId, previousTelegram)
              : deps.telegramWebhooks.delete(tenantId, agentId, telegram)
        : undefined,
      heldBefore ? undefined : () => deps.directory.release(route),
      secret
        ? () =>
            previous
              ? deps.secrets.put(tenantId, agentId, type, previous)
              : deps.secrets.delete(tenantId, agentId, type)
        : undefined,
    ]);
    throw error;
  }
  // A new bot replaced the old one: the old bot stops posting here (best effort: it may be revoked).
  if (telegram && previous?.botToken && previous.botToken !== telegram.botToken) {
    const oldBot = previous.botToken;
    await undo(deps, "the replaced bot's webhook", { tenantId, agentId, type }, [
      () => deps.telegramWebhooks.delete(tenantId, agentId, { botToken: oldBot }),
    ]);
  }
  if (existing && !heldBefore) {
    await undo(deps, 'the old address after a move', { tenantId, agentId, type }, [
      () => deps.directory.release({ ...route, address: existing.address }),
    ]);
  }
  return channelView(setting);
}

/**
 * The environment's public address, which Telegram must be able to call. Without one (an AWS
 * environment deployed without `publicBaseUrl`) no Telegram channel can work: refused before
 * anything is claimed or stored.
 */
function telegramBaseUrl(deps: Pick<ChannelSettingsDeps, 'telegramWebhooks'>): string {
  const base = deps.telegramWebhooks.publicBaseUrl;
  if (!base) {
    throw new ConflictError(
      'Telegram channels need the public base URL of this environment (config publicBaseUrl, env PUBLIC_BASE_URL), which is not set: Telegram would have no address to post to. Ask the operator to set it and deploy.',
      { setting: 'publicBaseUrl' },
    );
  }
  return base.replace(/\/+$/, '');
}

/** What setWebhook is given for a Telegram channel: its URL (channel key) and its secret token. */
export function telegramWebhookOf(
  deps: Pick<ChannelSettingsDeps, 'telegramWebhooks'>,
  channelKey: string,
  secret: Readonly<Record<string, string>>,
): { botToken: string; url: string; secretToken: string } {
  const { botToken, secretToken } = secret;
  if (!botToken || !secretToken) {
    throw new Error('a Telegram channel secret holds botToken and secretToken');
  }
  const url = `${telegramBaseUrl(deps)}/v1/webhooks/telegram/${channelKey}`;
  return { botToken, url, secretToken };
}

/** Runs each compensation; one failing neither hides the original error nor stops the others. */
export async function undo(
  deps: Pick<ChannelSettingsDeps, 'log'>,
  what: string,
  ids: Record<string, string>,
  steps: readonly ((() => Promise<unknown>) | undefined)[],
): Promise<void> {
  for (const step of steps) {
    if (!step) continue;
    try {
      await step();
    } catch (error) {
      deps.log?.warn(`Could not undo ${what}`, {
        ...ids,
        error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error',
      });
    }
  }
}
