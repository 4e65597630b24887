import { createHash } from 'node:crypto';
import { encodeTime } from 'ulid';
import type { Agent } from '../agents/schemas';
import type { Conversation, Message } from '../conversations/conversations';
import { CHANNEL_ADDRESS_KIND, normaliseAddress } from '../conversations/customers';
import { chat, type RuntimeDeps } from '../runtime/agent-runtime';
import { admitTurn, type RateLimitDeps } from '../runtime/rate-limits';
import { AppError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import type { MessagingChannel } from './model';
import type { QueuedInbound } from './receive';
import { type ChannelSendDeps, type SendOutcome, sendToCustomer } from './send';

/**
 * The inbound pipeline, second half: the worker's use case for one queued message. In the
 * tenant's scope: recognise the customer by address (one customer across channels), open the
 * conversation (agent, channel, customer), apply the channel rules (STOP/START, opted out,
 * paused or stopped agent, conversation handed to a person), run the turn through the same chat
 * path as the API (runtime, decision engine, billing), and send the reply on the same channel.
 * Whatever is not answered is still stored, with why.
 */
export interface RespondDeps extends ChannelSendDeps {
  readonly runtime: Pick<RuntimeDeps, 'customers' | 'conversations' | 'agents'> & RuntimeDeps;
  readonly inTenantScope: <T>(tenantId: string, work: () => Promise<T>) => Promise<T>;
  /** The tenant's turn rate limits, the same that admit chat turns over the API. */
  readonly turnAdmission: RateLimitDeps;
}

export type RespondOutcome =
  | { readonly outcome: 'answered'; readonly conversationId: string; readonly send: SendOutcome }
  | { readonly outcome: 'unanswered'; readonly conversationId: string; readonly code: string }
  | {
      readonly outcome: 'opted-out' | 'opted-in';
      readonly conversationId: string;
      readonly confirmed: boolean;
    };

/** Carriers' and Twilio's opt-out and opt-in keywords (the whole message, any case). */
const STOP_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']);
const START_WORDS = new Set(['START', 'YES', 'UNSTOP', 'OPTIN']);
const OPT_OUT_CHANNELS: ReadonlySet<MessagingChannel> = new Set(['sms', 'whatsapp']);

function keywordOf(channel: MessagingChannel, text: string): 'stop' | 'start' | undefined {
  if (!OPT_OUT_CHANNELS.has(channel)) return undefined;
  const word = text
    .trim()
    .toUpperCase()
    .replace(/[.!]+$/, '');
  if (STOP_WORDS.has(word)) return 'stop';
  if (START_WORDS.has(word)) return 'start';
  return undefined;
}

/**
 * Who a channel turn acts as: no signed-in user but the channel itself, with a member's standing
 * plus notifying coordinators (so `escalate` works); anything costlier the agent proposes goes
 * through the decision engine's levels and the tenant's policies like any member's would.
 */
export function channelPrincipal(tenantId: string, channel: MessagingChannel): Principal {
  return {
    userId: `channel:${channel}`,
    tenantId,
    role: 'member',
    acting: { role: 'member', grants: [{ permission: 'coordinator:notify' }], locationIds: [] },
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A turn id fixed by the delivery (so a redelivered queue message stores nothing twice) that
 * still sorts by time like every execution id: the receive time, then a hash of the provider id.
 */
export function inboundTurnId(item: QueuedInbound): string {
  const digest = createHash('sha256')
    .update(`${item.message.channel}\u0000${item.message.providerMessageId}`)
    .digest();
  let random = '';
  for (let index = 0; index < 16; index++) random += CROCKFORD[(digest[index] as number) % 32];
  return `exe_${encodeTime(Date.parse(item.receivedAt), 10)}${random}`;
}

export function respond(deps: RespondDeps, item: QueuedInbound): Promise<RespondOutcome> {
  return deps.inTenantScope(item.tenantId, () => respondInScope(deps, item));
}

async function respondInScope(deps: RespondDeps, item: QueuedInbound): Promise<RespondOutcome> {
  const { tenantId, agentId, message } = item;
  const channel = message.channel;
  const kind = CHANNEL_ADDRESS_KIND[channel];
  const customer = await deps.runtime.customers.resolve(
    tenantId,
    { kind, value: normaliseAddress(kind, message.customerAddress) },
    message.customerName,
  );
  const conversation = await deps.runtime.conversations.open(tenantId, agentId, channel, customer.id);
  await deps.store.touchInbound(tenantId, customer.id, channel, message.sentAt);
  if (message.replyContext) {
    await deps.store.setReplyContext(tenantId, conversation.id, message.replyContext, item.receivedAt);
  }
  const turnId = inboundTurnId(item);
  const inbound = (unanswered?: Message['unanswered']): Message => ({
    id: `${turnId}#1`,
    conversationId: conversation.id,
    role: 'user',
    content: message.text,
    executionId: turnId,
    createdAt: item.receivedAt,
    providerMessageId: message.providerMessageId,
    ...(unanswered ? { unanswered } : {}),
  });
  const unanswered = async (code: string, reason: string): Promise<RespondOutcome> => {
    await deps.store.append(tenantId, inbound({ code, reason }));
    return { outcome: 'unanswered', conversationId: conversation.id, code };
  };
  const agent = await deps.runtime.agents.get(tenantId, agentId);

  const keyword = keywordOf(channel, message.text);
  if (keyword) {
    const optedOut = keyword === 'stop';
    const changed = await deps.store.setOptedOut(tenantId, customer.id, channel, optedOut, item.receivedAt);
    await deps.store.append(
      tenantId,
      inbound({
        code: optedOut ? 'OPT_OUT' : 'OPT_IN',
        reason: optedOut
          ? `the customer sent ${message.text.trim()}: no more messages on ${channel} until START`
          : `the customer sent ${message.text.trim()}: messages on ${channel} may resume`,
      }),
    );
    // Confirmed once: a second STOP (or START) changes nothing and is not answered again.
    let confirmed = false;
    if (changed) {
      const text = optedOut
        ? `You are unsubscribed from ${agent?.name ?? 'this agent'} and will receive no more messages here. Reply START to resubscribe.`
        : `You are resubscribed to ${agent?.name ?? 'this agent'}. Reply STOP to unsubscribe.`;
      const sent = await storeAndSend(deps, item, conversation, `${turnId}#2`, text, turnId);
      confirmed = sent.sent;
    }
    return { outcome: optedOut ? 'opted-out' : 'opted-in', conversationId: conversation.id, confirmed };
  }

  const state = await deps.store.state(tenantId, customer.id, channel);
  if (state.optedOut) {
    return unanswered('OPTED_OUT', `the customer opted out of ${channel}; the agent does not answer there`);
  }
  if (!agent) return unanswered('AGENT_UNAVAILABLE', `agent ${agentId} no longer exists`);
  if (agent.status !== 'active') {
    return unanswered(
      'AGENT_UNAVAILABLE',
      `agent ${agentId} is ${agent.status}; only an active agent answers`,
    );
  }
  if (conversation.status !== 'active') {
    // `paused` or `handoff`: a person is handling it; `archived`: closed.
    return unanswered(
      'CONVERSATION_NOT_ACTIVE',
      `the conversation is ${conversation.status}; the agent does not answer it`,
    );
  }
  let reply: { executionId: string; text: string };
  try {
    // Inbound turns are admitted here, in the worker, not at the webhook. Refusing at the webhook
    // would mean a 429 to the provider: some retry it (Meta for hours, Slack three times) so the
    // turn would run later anyway or be dropped, others (Twilio) drop it, and either way the
    // customer's message would be lost from the conversation. Here the provider has had its 200,
    // the message is stored with why it went unanswered (RATE_LIMITED, and when to retry), the
    // tenant sees it in the conversation, and nothing is thrown back to the queue, so the refusal
    // is final: no redelivery loop. Only real turns count: opt-out keywords, opted-out customers,
    // unavailable agents and handed-off conversations are settled above without a model call.
    await admitTurn(deps.turnAdmission, tenantId, agentId);
    const result = await chat(
      deps.runtime,
      channelPrincipal(tenantId, channel),
      agentId,
      { message: message.text, channel, conversationId: conversation.id },
      // The same delivery queued again replays its turn; provider ids may hold any character.
      `inbound:${inboundTurnId(item).slice(4)}`,
    );
    reply = { executionId: result.executionId, text: result.reply };
  } catch (error) {
    // Refused (rate limited, no tokens, agent paused meanwhile) or failed (the model): the execution records the
    // failure; the message is kept with why, and a redelivery could only fail the same way.
    if (error instanceof AppError) return unanswered(error.code, error.message);
    throw error;
  }
  if (!reply.text.trim()) return { outcome: 'answered', conversationId: conversation.id, send: noReply };
  const send = await sendReply(deps, item, agent, conversation, `${reply.executionId}#2`, reply.text);
  return { outcome: 'answered', conversationId: conversation.id, send };
}

const noReply: SendOutcome = {
  sent: false,
  code: 'PROVIDER_REFUSED',
  reason: 'the agent had nothing to say',
};

function sendReply(
  deps: RespondDeps,
  item: QueuedInbound,
  agent: Agent,
  conversation: Conversation,
  messageId: string,
  text: string,
): Promise<SendOutcome> {
  return sendToCustomer(deps, {
    tenantId: item.tenantId,
    agentId: agent.id,
    conversation,
    channel: item.message.channel,
    from: item.message.agentAddress,
    to: item.message.customerAddress,
    text,
    messageId,
    actor: `channel:${item.message.channel}`,
    ...(item.message.replyContext ? { replyContext: item.message.replyContext } : {}),
  });
}

/** A platform message (an opt-out confirmation): stored as the agent's, then sent. */
async function storeAndSend(
  deps: RespondDeps,
  item: QueuedInbound,
  conversation: Conversation,
  messageId: string,
  text: string,
  turnId: string,
): Promise<SendOutcome> {
  await deps.store.append(item.tenantId, {
    id: messageId,
    conversationId: conversation.id,
    role: 'assistant',
    content: text,
    executionId: turnId,
    createdAt: deps.now().toISOString(),
  });
  return sendToCustomer(deps, {
    tenantId: item.tenantId,
    agentId: item.agentId,
    conversation,
    channel: item.message.channel,
    from: item.message.agentAddress,
    to: item.message.customerAddress,
    text,
    messageId,
    actor: `channel:${item.message.channel}`,
    evenIfOptedOut: true,
  });
}
