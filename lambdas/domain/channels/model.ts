import type { ChannelType } from '../agents/schemas';
import { CHANNEL_ADDRESS_KIND, normaliseAddress } from '../conversations/customers';

/**
 * The messaging channels a customer reaches an agent on through a provider webhook (voice has
 * its own path through Amazon Connect; web is the authenticated API and, later, the WebSocket).
 */
export const MESSAGING_CHANNELS = [
  'sms',
  'whatsapp',
  'slack',
  'telegram',
  'messenger',
  'instagram',
  'email',
] as const satisfies readonly ChannelType[];
export type MessagingChannel = (typeof MESSAGING_CHANNELS)[number];

export function isMessagingChannel(value: string): value is MessagingChannel {
  return (MESSAGING_CHANNELS as readonly string[]).includes(value);
}

/**
 * Channels configured with `PUT /v1/agents/{id}/channels/{type}` (an address claimed in the
 * directory): the messaging channels, and voice (a phone number already claimed in Amazon Connect;
 * no provider credentials).
 */
export const CONFIGURABLE_CHANNELS = [
  ...MESSAGING_CHANNELS,
  'voice',
] as const satisfies readonly ChannelType[];
export type ConfigurableChannel = (typeof CONFIGURABLE_CHANNELS)[number];

export function isConfigurableChannel(value: string): value is ConfigurableChannel {
  return (CONFIGURABLE_CHANNELS as readonly string[]).includes(value);
}

/** A file the customer sent, kept where the provider keeps it: fetched only if a tool needs it. */
export interface InboundAttachment {
  /** The provider's reference: a media URL (Twilio, Meta), a file id (Telegram, Slack), an S3 key (email). */
  readonly ref: string;
  readonly contentType?: string;
  readonly name?: string;
  readonly sizeBytes?: number;
}

/**
 * One message a customer sent on a messaging channel, whichever provider carried it. Every
 * webhook adapter maps its provider's payload to this and nothing else reaches the domain.
 */
export interface InboundMessage {
  readonly channel: MessagingChannel;
  /** The address the customer wrote to, normalised (`channelAddress`): it routes to tenant and agent. */
  readonly agentAddress: string;
  /** Who wrote, normalised: E.164 phone, lower-case email, Slack user id, Telegram chat id, Meta PSID/IGSID. */
  readonly customerAddress: string;
  readonly customerName?: string;
  readonly text: string;
  readonly attachments: readonly InboundAttachment[];
  /** The provider's id of this delivery: a redelivered webhook carries the same one (dedup key). */
  readonly providerMessageId: string;
  /** When the provider says it was sent (ISO 8601). */
  readonly sentAt: string;
  /**
   * What the reply needs to land in the same place, opaque to the domain: Slack channel and
   * thread_ts, email Message-ID / References / Subject, Telegram chat id. Strings only: it is
   * queued and stored.
   */
  readonly replyContext?: Readonly<Record<string, string>>;
}

/** Where a channel address leads: one global lookup item per (channel, address), platform-level. */
export interface ChannelRoute {
  readonly channel: MessagingChannel | 'voice';
  readonly address: string;
  readonly tenantId: string;
  readonly agentId: string;
}

/**
 * The global (channel, address) → (tenant, agent) lookup. Written when a channel is configured,
 * read by the webhooks before any tenant is known: platform-level code only, outside any tenant
 * scope (composition/tenant-scope.ts).
 */
export interface ChannelDirectory {
  /** Claims `address` for the agent; false when another agent (of any tenant) holds it. Re-claiming one's own is true. */
  claim(route: ChannelRoute): Promise<boolean>;
  /** Releases the claim if this agent holds it; another agent's claim is left alone. */
  release(route: ChannelRoute): Promise<void>;
  resolve(channel: ChannelRoute['channel'], address: string): Promise<ChannelRoute | undefined>;
}

/**
 * An agent's channel credentials (Twilio auth token, Slack signing secret, Meta app secret, ...):
 * Secrets Manager on AWS under the tenant's own path, the local secret store in local mode.
 * Never in the table, a response or a log.
 */
/** Whose secrets: a routed channel's, or the public web chat's signing secret. */
export type SecretChannel = ChannelRoute['channel'] | 'web';

export interface ChannelSecrets {
  get(
    tenantId: string,
    agentId: string,
    channel: SecretChannel,
  ): Promise<Readonly<Record<string, string>> | undefined>;
  put(
    tenantId: string,
    agentId: string,
    channel: SecretChannel,
    credentials: Readonly<Record<string, string>>,
  ): Promise<void>;
  delete(tenantId: string, agentId: string, channel: SecretChannel): Promise<void>;
}

/**
 * An address as the directory keys it, so that `+1 (415) 555-0100`, `whatsapp:+14155550100` and
 * `+14155550100` are one number and `Info@Shop.example` one mailbox.
 */
export function channelAddress(channel: ChannelRoute['channel'], raw: string): string {
  return normaliseAddress(CHANNEL_ADDRESS_KIND[channel], raw);
}

/**
 * A WhatsApp template (Twilio Content API): the only thing WhatsApp delivers outside 24 hours of
 * the customer's last message.
 */
export interface ChannelTemplate {
  /** Twilio's `ContentSid` (`HX…`) of an approved template. */
  readonly contentSid: string;
  /** The template's variables by position (`{"1": "Ana"}`). */
  readonly variables?: Readonly<Record<string, string>>;
}

/** One message the platform sends a customer on a messaging channel (a reply, a staff message, an action). */
export interface OutboundChannelMessage {
  readonly tenantId: string;
  readonly agentId: string;
  readonly channel: MessagingChannel;
  /** The agent's address on the channel (the directory's address): the sender. */
  readonly from: string;
  /** The customer's address (InboundMessage.customerAddress). */
  readonly to: string;
  readonly text: string;
  /** Where the reply lands, as the inbound message gave it (Slack thread, email threading headers, ...). */
  readonly replyContext?: Readonly<Record<string, string>>;
  /** WhatsApp outside the 24-hour window: the approved template to send instead of `text`. */
  readonly template?: ChannelTemplate;
  /** The channel's secrets, read by the caller in the tenant's scope (ChannelSecrets.get). Never logged. */
  readonly credentials: Readonly<Record<string, string>>;
}

/** What a provider made of a send: its own message id, which its delivery-status callbacks name. */
export interface ChannelDeliveryReceipt {
  /** `twilio`, `slack`, `telegram`, `meta`, `ses`, or `outbox` in local mode. */
  readonly provider: string;
  readonly providerMessageId: string;
  readonly status: string;
}

/**
 * Sends on one channel. Throws `ProviderError` (domain/actions/ports.ts) when the provider
 * refuses; `retryable` says whether trying again may help.
 */
export interface ChannelSender {
  send(message: OutboundChannelMessage): Promise<ChannelDeliveryReceipt>;
}

/** The sender of each channel (lambdas/composition/channel-senders.ts builds it). */
export interface ChannelSenders {
  /** Undefined when this environment cannot send on `channel`. */
  senderFor(channel: MessagingChannel): ChannelSender | undefined;
}
