import { ProviderError } from '../actions/ports';
import { type BillingDeps, release, reserve, settle } from '../billing/billing';
import type { CostTable } from '../billing/ports';
import type { Conversation, MessageDelivery } from '../conversations/conversations';
import { AppError, messageOf } from '../shared/errors';
import type {
  ChannelSecrets,
  ChannelSenders,
  ChannelTemplate,
  MessagingChannel,
  OutboundChannelMessage,
} from './model';
import type { ChannelConversationStore } from './ports';

/** WhatsApp delivers free-form messages only this long after the customer's last message. */
export const WHATSAPP_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface ChannelSendDeps {
  readonly senders: ChannelSenders;
  readonly secrets: Pick<ChannelSecrets, 'get'>;
  readonly store: ChannelConversationStore;
  readonly billing: BillingDeps;
  readonly now: () => Date;
  readonly log: { warn(message: string, extra: Record<string, unknown>): void };
}

/** One message to a customer on the conversation's channel, already stored under `messageId`. */
export interface CustomerSend {
  readonly tenantId: string;
  readonly agentId: string;
  readonly conversation: Pick<Conversation, 'id' | 'customerId'>;
  readonly channel: MessagingChannel;
  /** The agent's address on the channel. */
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly messageId: string;
  readonly template?: ChannelTemplate;
  readonly replyContext?: Readonly<Record<string, string>>;
  /** Who is charged as the actor in the ledger. */
  readonly actor: string;
  /** STOP's own confirmation is the one message an opted-out customer still gets. */
  readonly evenIfOptedOut?: boolean;
}

export type RefusalCode =
  | 'OPTED_OUT'
  | 'WHATSAPP_WINDOW_CLOSED'
  | 'INSUFFICIENT_TOKENS'
  | 'CHANNEL_NOT_CONFIGURED'
  | 'PROVIDER_REFUSED';

export type SendOutcome =
  | { readonly sent: true; readonly delivery: MessageDelivery; readonly replayed: boolean }
  | { readonly sent: false; readonly code: RefusalCode; readonly reason: string };

/** What one message costs on a channel; WhatsApp is charged per 24-hour conversation instead. */
function messageCost(costs: CostTable, channel: MessagingChannel): number {
  switch (channel) {
    case 'sms':
      return costs.sms;
    case 'email':
      return costs.email;
    case 'whatsapp':
      return costs.whatsappConversation;
    default:
      // Slack, Telegram and Meta messages cost the platform nothing per message.
      return 0;
  }
}

/**
 * Sends one stored message to a customer, with the rules every channel message obeys: never to an
 * opted-out customer; WhatsApp outside 24 h of the customer's last message only as an approved
 * template; paid per the cost table (reserved first, so too few tokens sends nothing; released if
 * the provider refuses). The outcome (delivery or refusal) is recorded on the message, so the
 * conversation says why nothing went out. A retry of a message already sent sends nothing.
 */
export async function sendToCustomer(deps: ChannelSendDeps, send: CustomerSend): Promise<SendOutcome> {
  const { tenantId, conversation, channel } = send;
  const earlier = await deps.store.deliveryOf(tenantId, conversation.id, send.messageId);
  if (earlier && earlier.status !== 'refused') return { sent: true, delivery: earlier, replayed: true };
  const refuse = async (code: RefusalCode, reason: string): Promise<SendOutcome> => {
    deps.log.warn('Channel message not sent', { tenantId, channel, code });
    await deps.store.setDelivery(tenantId, conversation.id, send.messageId, {
      channel,
      provider: 'none',
      providerMessageId: `refused:${send.messageId}`,
      status: 'refused',
      updatedAt: deps.now().toISOString(),
      error: `${code}: ${reason}`,
    });
    return { sent: false, code, reason };
  };
  const state = await deps.store.state(tenantId, conversation.customerId, channel);
  if (state.optedOut && !send.evenIfOptedOut) {
    return refuse('OPTED_OUT', `the customer opted out of ${channel} (STOP); they must send START first`);
  }
  const now = deps.now();
  let chargeWindow = false;
  if (channel === 'whatsapp') {
    const last = state.lastInboundAt ? Date.parse(state.lastInboundAt) : Number.NaN;
    const open = Number.isFinite(last) && now.getTime() - last < WHATSAPP_WINDOW_MS;
    if (!open && !send.template) {
      return refuse(
        'WHATSAPP_WINDOW_CLOSED',
        "more than 24 hours since the customer's last WhatsApp message: only an approved template (ContentSid) can be sent",
      );
    }
    const charged = state.windowChargedAt ? Date.parse(state.windowChargedAt) : Number.NaN;
    chargeWindow = !(Number.isFinite(charged) && now.getTime() - charged < WHATSAPP_WINDOW_MS);
  }
  const sender = deps.senders.senderFor(channel);
  const credentials = await deps.secrets.get(tenantId, send.agentId, channel);
  if (!sender || !credentials) {
    return refuse('CHANNEL_NOT_CONFIGURED', `no ${channel} sender or credentials for this agent`);
  }
  const cost = channel === 'whatsapp' && !chargeWindow ? 0 : messageCost(deps.billing.costs, channel);
  // Ledger keys take letters, digits and `_ . : -` only.
  const key = `channel-send:${send.messageId.replace(/[^\w.:-]/g, '.')}`;
  let reservationId: string | undefined;
  if (cost > 0) {
    try {
      reservationId = (
        await reserve(
          deps.billing,
          tenantId,
          cost,
          { action: `channel:${channel}`, agentId: send.agentId },
          key,
          send.actor,
        )
      ).id;
    } catch (error) {
      if (error instanceof AppError && error.statusCode === 402) {
        return refuse('INSUFFICIENT_TOKENS', `${cost} tokens needed to send on ${channel}: ${error.message}`);
      }
      throw error;
    }
  }
  const message: OutboundChannelMessage = {
    tenantId,
    agentId: send.agentId,
    channel,
    from: send.from,
    to: send.to,
    text: send.text,
    credentials,
    ...(send.template ? { template: send.template } : {}),
    ...(send.replyContext ? { replyContext: send.replyContext } : {}),
  };
  let receipt: Awaited<ReturnType<NonNullable<ReturnType<ChannelSenders['senderFor']>>['send']>>;
  try {
    receipt = await sender.send(message);
  } catch (error) {
    if (reservationId) await release(deps.billing, tenantId, reservationId, key, send.actor);
    if (error instanceof ProviderError && !error.retryable) {
      return refuse('PROVIDER_REFUSED', messageOf(error));
    }
    throw error;
  }
  if (reservationId) await settle(deps.billing, tenantId, reservationId, cost, key, send.actor);
  if (chargeWindow) {
    await deps.store.markWindowCharged(tenantId, conversation.customerId, channel, now.toISOString());
  }
  const delivery: MessageDelivery = {
    channel,
    provider: receipt.provider,
    providerMessageId: receipt.providerMessageId,
    status: receipt.status,
    updatedAt: deps.now().toISOString(),
  };
  await deps.store.setDelivery(tenantId, conversation.id, send.messageId, delivery);
  return { sent: true, delivery, replayed: false };
}
