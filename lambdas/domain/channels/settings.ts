import * as z from 'zod/mini';
import type { Agent, AgentVersion } from '../agents/schemas';
import { ValidationError } from '../shared/errors';
import { idSchema } from '../shared/ids';
import { instant, lazySchema, text } from '../shared/zod';
import { CHANNEL_KINDS } from './kinds';
import { CONFIGURABLE_CHANNELS, type ConfigurableChannel, channelAddress } from './model';

/**
 * An agent's settings for one messaging channel, as stored beside the agent (never a credential:
 * only the names of the credential fields that are set).
 */
export interface ChannelSetting {
  readonly agentId: string;
  readonly type: ConfigurableChannel;
  /** Normalised (`channelAddress`); for telegram the platform's `channelKey`. */
  readonly address: string;
  readonly enabled: boolean;
  readonly credentialsSet: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** What a channel change writes with the agent's new configuration, in one transaction. */
export type ChannelSettingChange =
  | { readonly put: ChannelSetting }
  | { readonly remove: ConfigurableChannel };

export interface ChannelSettingsRepository {
  list(tenantId: string, agentId: string): Promise<ChannelSetting[]>;
  get(tenantId: string, agentId: string, type: ConfigurableChannel): Promise<ChannelSetting | undefined>;
  /**
   * Saves the agent's configuration (its `channels` entry changed) and its new version exactly as
   * `AgentRepository.saveConfig` does, and the setting, all or nothing.
   */
  save(
    next: Agent,
    version: AgentVersion,
    expectedVersion: number,
    change: ChannelSettingChange,
  ): Promise<void>;
}

// The table lives in its own module, free of zod, so the console can import it too.
export { CHANNEL_KINDS, type ChannelKind } from './kinds';

export const channelTypeParams = lazySchema(() =>
  z.strictObject({
    id: idSchema('agent'),
    type: z.enum(CONFIGURABLE_CHANNELS),
  }),
);

/**
 * `PUT /v1/agents/{id}/channels/{type}`. One schema for every type (the path says which); the
 * credentials' fields are checked against the type by `checkedCredentials`, each by name.
 */
/** A channel's credentials by field name (accountSid, botToken …); `description` says which per type. */
export const channelCredentials = (description: string) =>
  z
    .record(
      z.string().check(z.regex(/^[A-Za-z]{1,40}$/)),
      z.string().check(z.minLength(1), z.maxLength(4096)),
    )
    .check(z.meta({ description }));

export const channelPutBody = lazySchema(() =>
  z.strictObject({
    address: z.optional(text(1, 320)),
    enabled: z.optional(z.boolean()),
    credentials: z.optional(
      channelCredentials(
        'Per type: sms/whatsapp {accountSid, authToken}; slack {botToken, signingSecret}; telegram {botToken}; messenger/instagram {pageAccessToken, appSecret, verifyToken}; email and voice none. Never returned.',
      ),
    ),
  }),
);
export type ChannelPutBody = z.infer<ReturnType<typeof channelPutBody>>;

export const channelResponse = lazySchema(() =>
  z.object({
    type: z.enum(CONFIGURABLE_CHANNELS),
    address: z.string(),
    enabled: z.boolean(),
    /** Names of the credential fields that are set (values are never shown). */
    credentialsSet: z.array(z.string()),
    /** Where the provider is to deliver messages, relative to the API's base URL. */
    webhookPath: z.optional(z.string()),
    createdAt: instant(),
    updatedAt: instant(),
    updatedBy: z.string(),
  }),
);
export type ChannelView = z.infer<ReturnType<typeof channelResponse>>;
export const channelListResponse = lazySchema(() => z.object({ items: z.array(channelResponse()) }));

export function channelView(setting: ChannelSetting): ChannelView {
  const path = CHANNEL_KINDS[setting.type].webhookPath?.(setting.address);
  return {
    type: setting.type,
    address: setting.address,
    enabled: setting.enabled,
    credentialsSet: [...setting.credentialsSet],
    ...(path ? { webhookPath: path } : {}),
    createdAt: setting.createdAt,
    updatedAt: setting.updatedAt,
    updatedBy: setting.updatedBy,
  };
}

/** The caller's address for `type`, normalised, or a 400 naming `body.address`. */
export function checkedAddress(type: ConfigurableChannel, raw: string | undefined): string | undefined {
  const kind = CHANNEL_KINDS[type];
  if (!kind.address) {
    if (raw !== undefined) {
      throw ValidationError.forField(
        'body.address',
        `${type} addresses are made by the platform; leave it out`,
      );
    }
    return undefined;
  }
  if (raw === undefined) return undefined;
  const address = channelAddress(type, raw);
  if (!kind.address.pattern.test(address)) {
    throw ValidationError.forField('body.address', `must be ${kind.address.expected}`);
  }
  return address;
}

/**
 * The caller's credentials for `type`: exactly its fields, every one of them (a partial set would
 * leave the channel with a mix of two accounts' secrets). Errors name the field, never a value.
 */
export function checkedCredentials(
  type: ConfigurableChannel,
  given: Readonly<Record<string, string>>,
): Record<string, string> {
  const kind = CHANNEL_KINDS[type];
  for (const field of Object.keys(given)) {
    if (!kind.credentials.includes(field)) {
      throw ValidationError.forField(
        `body.credentials.${field}`,
        kind.credentials.length === 0
          ? `${type} takes no credentials`
          : `is not a ${type} credential (expected ${kind.credentials.join(', ')})`,
      );
    }
  }
  for (const field of kind.credentials) {
    if (given[field] === undefined) {
      throw ValidationError.forField(`body.credentials.${field}`, `is required for ${type}`);
    }
  }
  return { ...given };
}
