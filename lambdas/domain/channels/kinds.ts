import { credentialFieldsOf } from './credential-fields';
import type { ConfigurableChannel } from './model';

/**
 * What each configurable channel takes (`PUT /v1/agents/{id}/channels/{type}`): its credential
 * fields, the address it is reached at, the webhook its provider calls. Imports nothing at run
 * time, so the console builds its channel forms from this very table.
 */
export interface ChannelKind {
  /** Credential fields the caller gives; all required on first configuration. */
  readonly credentials: readonly string[];
  /** Credential fields the platform makes and keeps with them (never shown). */
  readonly generated?: readonly string[];
  /** The address the caller gives, checked after `channelAddress`; absent: the platform makes it. */
  readonly address?: { readonly pattern: RegExp; readonly expected: string };
  /** The path the provider is to call, given to the tenant (absent: not a webhook, e.g. email). */
  readonly webhookPath?: (address: string) => string;
}

const E164 = { pattern: /^\+[1-9]\d{6,14}$/, expected: 'an E.164 phone number such as +14155550100' };
const META_ID = { pattern: /^\d{5,25}$/, expected: 'the numeric id Meta shows for it' };

export const CHANNEL_KINDS: Readonly<Record<ConfigurableChannel, ChannelKind>> = {
  sms: {
    credentials: credentialFieldsOf('sms'),
    address: E164,
    webhookPath: () => '/v1/webhooks/twilio/sms',
  },
  whatsapp: {
    credentials: credentialFieldsOf('whatsapp'),
    address: E164,
    webhookPath: () => '/v1/webhooks/twilio/whatsapp',
  },
  slack: {
    credentials: credentialFieldsOf('slack'),
    address: { pattern: /^T[A-Z0-9]{2,20}$/, expected: 'the Slack team id (T…)' },
    webhookPath: () => '/v1/webhooks/slack',
  },
  telegram: {
    credentials: credentialFieldsOf('telegram'),
    generated: ['secretToken'],
    webhookPath: (channelKey) => `/v1/webhooks/telegram/${channelKey}`,
  },
  messenger: {
    credentials: credentialFieldsOf('messenger'),
    address: META_ID,
    webhookPath: () => '/v1/webhooks/meta',
  },
  instagram: {
    credentials: credentialFieldsOf('instagram'),
    address: META_ID,
    webhookPath: () => '/v1/webhooks/meta',
  },
  // A number already claimed in the shared Amazon Connect instance (or by provisioning); Connect
  // calls the voice Lambda, not a webhook, so there is nothing to give a provider.
  voice: { credentials: credentialFieldsOf('voice'), address: E164 },
  email: {
    credentials: credentialFieldsOf('email'),
    address: {
      pattern: /^[^\s@<>()",;:]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+$/,
      expected: 'a mailbox such as help@shop.example',
    },
  },
};
