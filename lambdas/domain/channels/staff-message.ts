import type { AgentRepository } from '../agents/ports';
import type { ConversationRepository, Message, MessageDelivery } from '../conversations/conversations';
import { CHANNEL_ADDRESS_KIND, type CustomerRepository } from '../conversations/customers';
import { ConflictError, NotFoundError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Principal } from '../shared/principal';
import { isMessagingChannel } from './model';
import { type ChannelSendDeps, sendToCustomer } from './send';

export interface StaffMessageDeps extends ChannelSendDeps {
  readonly conversations: Pick<ConversationRepository, 'get'>;
  readonly customers: Pick<CustomerRepository, 'get'>;
  readonly agents: Pick<AgentRepository, 'get'>;
}

/**
 * `POST /v1/conversations/{id}/messages`: a person answers a conversation handed to them. The
 * message is stored in the transcript (as the business's side, with who wrote it, so the agent
 * sees it once the conversation is handed back), then sent on the conversation's channel with the
 * rules every channel message obeys (opt-out, WhatsApp window, costs; `send.ts`). On the web
 * channel (and voice) it is only stored: the customer reads the conversation. What happened to
 * the send is on the returned message's `delivery` (status `refused` with the reason when not sent).
 */
export async function sendStaffMessage(
  deps: StaffMessageDeps,
  principal: Principal,
  conversationId: string,
  text: string,
): Promise<Message> {
  const tenantId = principal.tenantId;
  const conversation = await deps.conversations.get(tenantId, conversationId);
  if (!conversation) throw new NotFoundError('Conversation', conversationId);
  if (conversation.status !== 'handoff' && conversation.status !== 'paused') {
    throw new ConflictError(
      `Conversation ${conversationId} is ${conversation.status}: the agent answers it; hand it to a person first (POST /v1/conversations/${conversationId}/handoff)`,
      { status: conversation.status },
    );
  }
  // An execution-shaped id (time first), so the message sorts among the turns by when it was sent.
  const turnId = newId('execution');
  const message: Message = {
    id: `${turnId}#1`,
    conversationId,
    role: 'assistant',
    content: text,
    executionId: turnId,
    createdAt: deps.now().toISOString(),
    sentBy: principal.userId,
  };
  await deps.store.append(tenantId, message);
  const channel = conversation.channel;
  if (!isMessagingChannel(channel)) return message;

  const [agent, customer, replyContext] = await Promise.all([
    deps.agents.get(tenantId, conversation.agentId),
    deps.customers.get(tenantId, conversation.customerId),
    // The customer's thread (Slack thread, email chain): the person answers where they wrote.
    deps.store.replyContext(tenantId, conversationId),
  ]);
  const from = agent?.channels.find((c) => c.type === channel)?.address;
  const to = customer?.addresses.find((a) => a.kind === CHANNEL_ADDRESS_KIND[channel])?.value;
  if (!from || !to) {
    const delivery: MessageDelivery = {
      channel,
      provider: 'none',
      providerMessageId: `refused:${message.id}`,
      status: 'refused',
      updatedAt: deps.now().toISOString(),
      error: !from
        ? `CHANNEL_NOT_CONFIGURED: the agent has no ${channel} address (PUT /v1/agents/{id}/channels/${channel})`
        : `NO_ADDRESS: the customer has no ${channel} address`,
    };
    await deps.store.setDelivery(tenantId, conversationId, message.id, delivery);
    return { ...message, delivery };
  }
  const outcome = await sendToCustomer(deps, {
    tenantId,
    agentId: conversation.agentId,
    conversation,
    channel,
    from,
    to,
    text,
    messageId: message.id,
    actor: principal.userId,
    ...(replyContext ? { replyContext } : {}),
  });
  const delivery: MessageDelivery = outcome.sent
    ? outcome.delivery
    : {
        channel,
        provider: 'none',
        providerMessageId: `refused:${message.id}`,
        status: 'refused',
        updatedAt: deps.now().toISOString(),
        error: `${outcome.code}: ${outcome.reason}`,
      };
  return { ...message, delivery };
}
