import type { ChannelType } from '../agents/schemas';
import type { ContentBlock } from '../runtime/model';
import type { Page } from '../shared/pagination';

/**
 * `paused`: the agent is held back in it (a colleague's decision, nothing else happens);
 * `handoff`: handed to a person (coordinators told), who answers with staff messages.
 */
export const CONVERSATION_STATUSES = ['active', 'paused', 'handoff', 'archived'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** One per (agent, channel, customer). */
export interface Conversation {
  readonly id: string;
  readonly tenantId: string;
  readonly agentId: string;
  readonly channel: ChannelType;
  readonly customerId: string;
  readonly status: ConversationStatus;
  readonly messageCount: number;
  /** Older turns folded into prose once the history outgrows its token budget. */
  readonly summary?: string;
  /** Messages up to and including this sort key are covered by `summary`. */
  readonly summarizedThrough?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastMessageAt?: string;
}

export interface Message {
  /** Sort key within the conversation: `<executionId>#<n>`, so a retried turn cannot store twice. */
  readonly id: string;
  readonly conversationId: string;
  readonly role: 'user' | 'assistant';
  readonly content: string;
  /** Tool calls the assistant made while producing this message. */
  readonly toolCalls?: readonly { readonly name: string; readonly status: 'succeeded' | 'failed' }[];
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly executionId: string;
  readonly createdAt: string;
  /** A person's message (human handoff): the user who wrote it; absent for the agent's own. */
  readonly sentBy?: string;
  /** A customer message that came in on a messaging channel: the provider's id of it. */
  readonly providerMessageId?: string;
  /** A customer message the agent did not answer, and why (opted out, paused agent, no tokens, ...). */
  readonly unanswered?: { readonly code: string; readonly reason: string };
  /** A message sent on a messaging channel: the provider's id and its latest delivery status. */
  readonly delivery?: MessageDelivery;
}

export interface MessageDelivery {
  readonly channel: ChannelType;
  readonly provider: string;
  readonly providerMessageId: string;
  /** queued, sent, delivered, undelivered, failed, read (Twilio's), or `recorded` (local outbox); `refused` when not sent. */
  readonly status: string;
  readonly updatedAt: string;
  /** Why a message was not sent or not delivered. */
  readonly error?: string;
}

export interface ConversationFilter {
  readonly agentId?: string;
  readonly customerId?: string;
  readonly channel?: ChannelType;
  readonly status?: ConversationStatus;
  readonly limit: number;
  readonly cursor?: string;
}

export interface ConversationRepository {
  /** The conversation for (agent, channel, customer), created on first contact. */
  open(tenantId: string, agentId: string, channel: ChannelType, customerId: string): Promise<Conversation>;
  get(tenantId: string, conversationId: string): Promise<Conversation | undefined>;
  list(tenantId: string, filter: ConversationFilter): Promise<Page<Conversation>>;
  messages(
    tenantId: string,
    conversationId: string,
    page: { limit: number; cursor?: string; order: 'asc' | 'desc' },
  ): Promise<Page<Message>>;
  /** The newest `limit` messages after `after` (exclusive), oldest first: the prompt's history. */
  recentMessages(tenantId: string, conversationId: string, limit: number, after?: string): Promise<Message[]>;
  setStatus(tenantId: string, conversationId: string, status: ConversationStatus): Promise<Conversation>;
}

/** A turn's messages as the model sees them. */
export function toModelHistory(
  messages: readonly Message[],
): { role: 'user' | 'assistant'; content: ContentBlock[] }[] {
  return messages.map((message) => ({
    role: message.role,
    content: [{ type: 'text', text: message.content }],
  }));
}
