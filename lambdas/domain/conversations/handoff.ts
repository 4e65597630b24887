import type { CoordinatorNotifier } from '../actions/definition';
import { domainEvent, type EventPublisher } from '../events/events';
import { publishTurnEvent, type TurnEventSink } from '../runtime/turn-events';
import { ConflictError, NotFoundError } from '../shared/errors';
import type { Conversation, ConversationRepository } from './conversations';
import { type ConversationView, conversationView } from './manage';

/**
 * Human handoff: a conversation in `handoff` is a person's. The agent does not answer it (the
 * runtime refuses a turn on it with that reason; an inbound message is stored unanswered), staff
 * answer with `POST /v1/conversations/{id}/messages`, and `resume-agent` hands it back.
 */
export interface HandoffDeps {
  readonly conversations: Pick<ConversationRepository, 'get' | 'setStatus'>;
  readonly coordinators: CoordinatorNotifier;
  readonly events: EventPublisher;
  /** Watchers of the conversation hear of it (`handoff`). */
  readonly turnEvents?: TurnEventSink;
  readonly now: () => Date;
}

/** Who handed it over: a user of the tenant, or the agent itself (the `escalate` action). */
export type HandoffBy =
  | { readonly kind: 'user'; readonly id: string }
  | { readonly kind: 'agent'; readonly id: string };

export interface HandoffResult {
  readonly conversation: Conversation;
  /** Coordinators reached by email (0 when it was already handed off: nobody is told twice). */
  readonly recipients: number;
  readonly alreadyHandedOff: boolean;
}

/**
 * Puts the conversation in `handoff` and tells the coordinators (email, and `coordinator.notified`
 * on the bus, as approvals do) and the bus (`conversation.handoff`, which the console and any
 * integration follow). Handing off a conversation already handed off changes nothing and tells
 * no one again; an archived one is closed (409).
 */
export async function handOffConversation(
  deps: HandoffDeps,
  tenantId: string,
  conversationId: string,
  by: HandoffBy,
  reason: string | undefined,
  agentName?: string,
): Promise<HandoffResult> {
  const current = await deps.conversations.get(tenantId, conversationId);
  if (!current) throw new NotFoundError('Conversation', conversationId);
  if (current.status === 'handoff') return { conversation: current, recipients: 0, alreadyHandedOff: true };
  if (current.status === 'archived') {
    throw new ConflictError(`Conversation ${conversationId} is archived; nothing to hand over`, {
      status: current.status,
    });
  }
  const conversation = await deps.conversations.setStatus(tenantId, conversationId, 'handoff');
  const { recipients } = await deps.coordinators.notify(tenantId, {
    subject: `${agentName ?? 'An agent'}'s conversation needs a person`,
    body: [
      by.kind === 'agent'
        ? 'The agent handed the conversation over.'
        : 'A colleague handed the conversation over.',
      reason ? `Reason: ${reason}` : undefined,
      `Answer with POST /v1/conversations/${conversationId}/messages; POST /v1/conversations/${conversationId}/resume-agent hands it back.`,
    ]
      .filter((line): line is string => line !== undefined)
      .join('\n'),
    agentId: conversation.agentId,
    conversationId,
  });
  await deps.events.publish([
    domainEvent(
      'conversation.handoff',
      {
        tenantId,
        conversationId,
        agentId: conversation.agentId,
        channel: conversation.channel,
        by: `${by.kind}:${by.id}`,
        ...(reason ? { reason } : {}),
        recipients,
      },
      deps.now(),
    ),
  ]);
  publishTurnEvent(
    deps.turnEvents,
    { tenantId, agentId: conversation.agentId, conversationId },
    { type: 'handoff', state: 'to_human', ...(reason ? { reason } : {}) },
  );
  return { conversation, recipients, alreadyHandedOff: false };
}

/** `POST /v1/conversations/{id}/resume-agent`: the agent answers the conversation again. */
export async function resumeAgentInConversation(
  deps: HandoffDeps,
  tenantId: string,
  conversationId: string,
  userId: string,
): Promise<ConversationView> {
  const current = await deps.conversations.get(tenantId, conversationId);
  if (!current) throw new NotFoundError('Conversation', conversationId);
  if (current.status === 'archived') {
    throw new ConflictError(
      `Conversation ${conversationId} is archived; the customer's next message reopens it`,
      {
        status: current.status,
      },
    );
  }
  if (current.status === 'active') return conversationView(current);
  const conversation = await deps.conversations.setStatus(tenantId, conversationId, 'active');
  await deps.events.publish([
    domainEvent(
      'conversation.resumed',
      { tenantId, conversationId, agentId: conversation.agentId, by: `user:${userId}` },
      deps.now(),
    ),
  ]);
  publishTurnEvent(
    deps.turnEvents,
    { tenantId, agentId: conversation.agentId, conversationId },
    { type: 'handoff', state: 'to_agent' },
  );
  return conversationView(conversation);
}
