import type { Message, MessageDelivery } from '../conversations/conversations';
import type { MessagingChannel } from './model';

/** What the platform keeps about one customer on one channel of the tenant. */
export interface CustomerChannelState {
  /** STOP: the agent never answers or sends to them on this channel until START. */
  readonly optedOut: boolean;
  readonly optedOutAt?: string;
  /** The customer's last message on this channel: WhatsApp's 24-hour window starts there. */
  readonly lastInboundAt?: string;
  /** When the WhatsApp conversation (24 h) now running was charged. */
  readonly windowChargedAt?: string;
}

/**
 * The channel side of conversations (tenant-scoped items):
 *   customer channel state  pk = T#<tenantId>#CUSTOMER#<customerId>  sk = CHANNEL#<channel>
 *   delivery lookup         pk = T#<tenantId>#DELIVERY#<provider>#<providerMessageId>  sk = DELIVERY
 * and messages stored outside a turn (unanswered customer messages, confirmations, staff messages).
 */
export interface ChannelConversationStore {
  state(tenantId: string, customerId: string, channel: MessagingChannel): Promise<CustomerChannelState>;
  /** Records the opt-out (true) or opt-in (false); true when it changed something. */
  setOptedOut(
    tenantId: string,
    customerId: string,
    channel: MessagingChannel,
    optedOut: boolean,
    at: string,
  ): Promise<boolean>;
  /** The customer wrote at `at` (kept only if later than what is stored). */
  touchInbound(tenantId: string, customerId: string, channel: MessagingChannel, at: string): Promise<void>;
  /**
   * The thread of the customer's last message on a conversation (Slack channel + thread_ts, the
   * email's Message-ID/References/subject, ...), kept only if `at` is not older than what is
   * stored: staff answering a handed-off conversation reply in the customer's thread.
   */
  setReplyContext(
    tenantId: string,
    conversationId: string,
    replyContext: Readonly<Record<string, string>>,
    at: string,
  ): Promise<void>;
  replyContext(
    tenantId: string,
    conversationId: string,
  ): Promise<Readonly<Record<string, string>> | undefined>;
  /** Marks the WhatsApp conversation (24 h) charged at `at`. */
  markWindowCharged(
    tenantId: string,
    customerId: string,
    channel: MessagingChannel,
    at: string,
  ): Promise<void>;
  /** Stores a message outside a turn (idempotent per message id) and counts it on the conversation. */
  append(tenantId: string, message: Message): Promise<void>;
  /** Records what the provider made of a sent message on it, and indexes its provider id. */
  setDelivery(
    tenantId: string,
    conversationId: string,
    messageId: string,
    delivery: MessageDelivery,
  ): Promise<void>;
  /** The delivery recorded on a message, if any (a retried reply is not sent twice). */
  deliveryOf(
    tenantId: string,
    conversationId: string,
    messageId: string,
  ): Promise<MessageDelivery | undefined>;
  /** A provider's status callback; false when no message of this tenant has that provider id. */
  updateDeliveryStatus(
    tenantId: string,
    provider: string,
    providerMessageId: string,
    status: string,
    at: string,
    error?: string,
  ): Promise<boolean>;
}

/**
 * Points a Telegram bot at the platform and away from it: Telegram's `setWebhook` and
 * `deleteWebhook` on AWS, the local outbox in local mode (nothing reaches Telegram).
 * A bot token Telegram refuses is a `ChannelCredentialsRejectedError`; any other failure a
 * `ProviderError` (502).
 */
export interface TelegramWebhookRegistry {
  /** The API's public address Telegram is to call; undefined when this environment has none. */
  readonly publicBaseUrl: string | undefined;
  set(
    tenantId: string,
    agentId: string,
    request: { readonly botToken: string; readonly url: string; readonly secretToken: string },
  ): Promise<void>;
  delete(tenantId: string, agentId: string, request: { readonly botToken: string }): Promise<void>;
}
