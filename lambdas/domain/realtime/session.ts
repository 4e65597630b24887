import type { AgentRepository } from '../agents/ports';
import type { ConversationRepository } from '../conversations/conversations';
import type { ChatInput, ChatResult } from '../runtime/agent-runtime';
import type { ExecutionRepository } from '../runtime/executions';
import type { TurnEventSink } from '../runtime/turn-events';
import {
  AppError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
} from '../shared/errors';
import type { Principal } from '../shared/principal';
import type { UserRepository } from '../tenants/ports';
import { type ApiPermission, roleAllows } from '../tenants/rbac';
import type { FanOutSink } from './fan-out';
import type {
  ConnectionIdentity,
  ConnectionStore,
  FeedbackStore,
  StoredConnection,
  SubscriptionTarget,
} from './ports';
import {
  type AgentFeedbackFrame,
  type ClientFrame,
  encodeFrame,
  FrameError,
  type ProtocolEvent,
  parseClientFrame,
  type SendMessageFrame,
} from './protocol';

/** API Gateway closes a WebSocket connection after 2 hours; its items expire with it. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60;

export interface RealtimeDeps {
  readonly store: ConnectionStore;
  readonly users: Pick<UserRepository, 'getCurrent'>;
  readonly agents: Pick<AgentRepository, 'get'>;
  readonly conversations: Pick<ConversationRepository, 'get'>;
  readonly executions: Pick<ExecutionRepository, 'get'>;
  readonly feedback: FeedbackStore;
  /** Turn events go to the conversation's and agent's subscribers, and to the connection that asked. */
  readonly events: FanOutSink & { forConnection(connectionId: string): TurnEventSink };
  /**
   * Runs one chat turn (admission, then the runtime's `chat`) with `events` as its sink. The
   * composition gives the runtime use case; the domain here only decides who may run which.
   */
  readonly runChat: (
    principal: Principal,
    agentId: string,
    input: ChatInput,
    events: TurnEventSink,
  ) => Promise<Pick<ChatResult, 'executionId' | 'conversationId'>>;
  /** One frame to one connection (answers to its own actions). */
  readonly reply: (connectionId: string, frame: string) => Promise<void>;
  readonly now: () => Date;
}

/** Records a connection the authorizer let in (`$connect`). */
export async function openConnection(
  deps: Pick<RealtimeDeps, 'store' | 'now'>,
  connectionId: string,
  identity: ConnectionIdentity,
): Promise<void> {
  const at = deps.now();
  await deps.store.put({
    connectionId,
    identity,
    connectedAt: at.toISOString(),
    expiresAt: Math.floor(at.getTime() / 1000) + CONNECTION_TTL_SECONDS,
  });
}

/** `$disconnect`: the connection and its subscriptions go. */
export async function closeConnection(
  deps: Pick<RealtimeDeps, 'store'>,
  connectionId: string,
  identity: ConnectionIdentity,
): Promise<void> {
  await deps.store.remove(identity.tenantId, connectionId);
}

/**
 * One client frame on a connection (`$default` and the action routes): parsed, checked against
 * who holds the connection, carried out; the answer (or an `error` frame naming what was wrong)
 * goes back on the connection. Never throws for the client's mistakes.
 */
export async function handleFrame(
  deps: RealtimeDeps,
  connectionId: string,
  identity: ConnectionIdentity,
  raw: string,
  /** When this invocation must be done (epoch ms): a turn that cannot finish goes on in the queue. */
  deadline?: number,
): Promise<void> {
  let frame: ClientFrame | undefined;
  try {
    frame = parseClientFrame(raw);
    await dispatch(deps, connectionId, identity, frame, deadline);
  } catch (error) {
    const requestId = frame?.requestId ?? (error instanceof FrameError ? error.requestId : undefined);
    const { code, message } = errorOf(error);
    await answer(deps, connectionId, { type: 'error', code, message }, requestId, {
      conversationId: frame && 'conversationId' in frame ? frame.conversationId : undefined,
    });
    if (!(error instanceof AppError) && !(error instanceof FrameError)) throw error;
  } finally {
    await deps.events.drain();
  }
}

function errorOf(error: unknown): { code: string; message: string } {
  if (error instanceof FrameError) return { code: error.code, message: error.message };
  if (error instanceof AppError && error.expose) return { code: error.code, message: error.message };
  return { code: 'INTERNAL_ERROR', message: 'Something went wrong; try again' };
}

async function answer(
  deps: Pick<RealtimeDeps, 'reply'>,
  connectionId: string,
  event: ProtocolEvent,
  requestId: string | undefined,
  about: { conversationId?: string | undefined; agentId?: string | undefined } = {},
): Promise<void> {
  await deps.reply(
    connectionId,
    encodeFrame({
      ...event,
      conversationId: about.conversationId ?? null,
      executionId: null,
      ...(about.agentId ? { agentId: about.agentId } : {}),
      // Answers to a client's own action are not part of any execution's sequence.
      seq: 0,
      ...(requestId ? { requestId } : {}),
    }),
  );
}

async function dispatch(
  deps: RealtimeDeps,
  connectionId: string,
  identity: ConnectionIdentity,
  frame: ClientFrame,
  deadline: number | undefined,
): Promise<void> {
  switch (frame.action) {
    case 'subscribe':
    case 'unsubscribe': {
      const target: SubscriptionTarget = frame.conversationId
        ? { kind: 'conversation', id: frame.conversationId }
        : { kind: 'agent', id: frame.agentId as string };
      await checkTarget(deps, connectionId, identity, target);
      if (frame.action === 'subscribe') {
        const connection = await liveConnection(deps, connectionId, identity);
        await deps.store.subscribe(identity.tenantId, connectionId, target, connection.expiresAt);
      } else {
        await deps.store.unsubscribe(identity.tenantId, connectionId, target);
      }
      deps.events.subscriptionsChanged();
      await answer(
        deps,
        connectionId,
        { type: frame.action === 'subscribe' ? 'subscribed' : 'unsubscribed' },
        frame.requestId,
        target.kind === 'conversation' ? { conversationId: target.id } : { agentId: target.id },
      );
      return;
    }
    case 'send_message':
      return sendMessage(deps, connectionId, identity, frame, deadline);
    case 'agent_feedback':
      return giveFeedback(deps, connectionId, identity, frame);
  }
}

/** The caller as the HTTP pipeline sees them: the user's record, read now, gives role and standing. */
async function userPrincipal(
  deps: Pick<RealtimeDeps, 'users'>,
  identity: Extract<ConnectionIdentity, { kind: 'user' }>,
  permission: ApiPermission,
): Promise<Principal> {
  const user = await deps.users.getCurrent(identity.tenantId, identity.userId);
  if (!user) throw new UnauthorizedError('token: this user no longer exists; sign in again');
  if (user.status === 'disabled') throw new UnauthorizedError('token: this user is disabled');
  if (!roleAllows(user.role, permission)) throw new ForbiddenError(`Role ${user.role} lacks ${permission}`);
  return {
    userId: user.id,
    tenantId: identity.tenantId,
    role: user.role,
    email: user.email,
    acting: { role: user.role, grants: user.grants, locationIds: user.locationIds },
  };
}

/**
 * Who a visitor's turn acts as: the web chat itself, with a member's standing (so its actions go
 * through the decision engine's levels and policies like any member's) plus notifying coordinators.
 */
export function webChatPrincipal(tenantId: string): Principal {
  return {
    userId: 'channel:web',
    tenantId,
    role: 'member',
    acting: { role: 'member', grants: [{ permission: 'coordinator:notify' }], locationIds: [] },
  };
}

async function liveConnection(
  deps: Pick<RealtimeDeps, 'store'>,
  connectionId: string,
  identity: ConnectionIdentity,
): Promise<StoredConnection> {
  const connection = await deps.store.get(identity.tenantId, connectionId);
  if (!connection) throw new UnauthorizedError('This connection has ended; connect again');
  return connection;
}

/**
 * Only the caller's tenant's conversations and agents: looked up in the tenant's own partitions
 * (so another tenant's id is simply not found: an `error` frame, nothing subscribed). A visitor
 * may follow their own conversation only.
 */
async function checkTarget(
  deps: RealtimeDeps,
  connectionId: string,
  identity: ConnectionIdentity,
  target: SubscriptionTarget,
): Promise<void> {
  if (identity.kind === 'visitor') {
    const connection = await liveConnection(deps, connectionId, identity);
    if (target.kind !== 'conversation' || connection.conversationId !== target.id) {
      throw new NotFoundError(target.kind === 'agent' ? 'Agent' : 'Conversation', target.id);
    }
    return;
  }
  if (target.kind === 'conversation') {
    await userPrincipal(deps, identity, 'conversations:read');
    const conversation = await deps.conversations.get(identity.tenantId, target.id);
    if (!conversation) throw new NotFoundError('Conversation', target.id);
  } else {
    await userPrincipal(deps, identity, 'agents:read');
    const agent = await deps.agents.get(identity.tenantId, target.id);
    if (!agent) throw new NotFoundError('Agent', target.id);
  }
}

async function sendMessage(
  deps: RealtimeDeps,
  connectionId: string,
  identity: ConnectionIdentity,
  frame: SendMessageFrame,
  deadline: number | undefined,
): Promise<void> {
  let events = deps.events.forConnection(connectionId);
  let bound: Promise<void> = Promise.resolve();
  if (identity.kind === 'visitor') {
    // The visitor's conversation is theirs from the turn's first event on: by the time they see
    // any of it, they may follow it and rate its messages.
    const binding = bindingFirst(events, (conversationId) =>
      deps.store.bindConversation(identity.tenantId, connectionId, conversationId),
    );
    events = binding.sink;
    bound = binding.settled();
  }
  // Out of time, the turn finishes its step and goes on in the execution queue, whose events
  // reach the conversation's subscribers (this connection among them, below).
  const underDeadline = deadline === undefined ? {} : { deadline, onDeadline: 'queue' as const };
  let principal: Principal;
  let agentId: string;
  let input: ChatInput;
  if (identity.kind === 'user') {
    if (!frame.agentId) throw ValidationError.forField('agentId', 'is required');
    principal = await userPrincipal(deps, identity, 'agents:run');
    agentId = frame.agentId;
    input = {
      message: frame.message,
      channel: 'web',
      ...underDeadline,
      ...(frame.context ? { context: frame.context } : {}),
      ...(frame.conversationId ? { conversationId: frame.conversationId } : {}),
    };
  } else {
    // Anyone can write a visitor's frames: facts about the turn come from the business, not them.
    if (frame.context !== undefined)
      throw ValidationError.forField('context', 'is not taken from a web chat visitor');
    if (frame.agentId !== undefined && frame.agentId !== identity.agentId) {
      throw new NotFoundError('Agent', frame.agentId);
    }
    const connection = await liveConnection(deps, connectionId, identity);
    if (frame.conversationId !== undefined && frame.conversationId !== connection.conversationId) {
      throw new NotFoundError('Conversation', frame.conversationId);
    }
    principal = webChatPrincipal(identity.tenantId);
    agentId = identity.agentId;
    input = {
      message: frame.message,
      channel: 'web',
      customer: { externalId: identity.externalId },
      ...underDeadline,
      ...(connection.conversationId ? { conversationId: connection.conversationId } : {}),
    };
  }
  await answer(deps, connectionId, { type: 'message_accepted' }, frame.requestId, {
    conversationId: frame.conversationId,
    agentId,
  });
  const result = await deps.runChat(principal, agentId, input, events);
  await bound;
  // From now on the sender follows the conversation (later events: an approval decided, a handoff).
  const connection = await liveConnection(deps, connectionId, identity);
  if (identity.kind === 'visitor' && connection.conversationId === undefined) {
    await deps.store.bindConversation(identity.tenantId, connectionId, result.conversationId);
  }
  await deps.store.subscribe(
    identity.tenantId,
    connectionId,
    { kind: 'conversation', id: result.conversationId },
    connection.expiresAt,
  );
  deps.events.subscriptionsChanged();
}

async function giveFeedback(
  deps: RealtimeDeps,
  connectionId: string,
  identity: ConnectionIdentity,
  frame: AgentFeedbackFrame,
): Promise<void> {
  let by: string;
  if (identity.kind === 'user') {
    await userPrincipal(deps, identity, 'conversations:read');
    by = `user:${identity.userId}`;
  } else {
    const connection = await liveConnection(deps, connectionId, identity);
    if (connection.conversationId !== frame.conversationId) {
      throw new NotFoundError('Conversation', frame.conversationId);
    }
    by = `visitor:${identity.externalId}`;
  }
  const [executionId, position] = frame.messageId.split('#') as [string, string];
  const execution = await deps.executions.get(identity.tenantId, executionId);
  // Only an agent's reply (the second message of a chat turn) in this conversation.
  if (
    !execution ||
    execution.conversationId !== frame.conversationId ||
    position !== '2' ||
    execution.kind !== 'chat' ||
    execution.status !== 'COMPLETED'
  ) {
    throw new NotFoundError('Message', frame.messageId);
  }
  await deps.feedback.record({
    tenantId: identity.tenantId,
    agentId: execution.agentId,
    conversationId: frame.conversationId,
    messageId: frame.messageId,
    rating: frame.rating,
    ...(frame.note ? { note: frame.note } : {}),
    by,
    at: deps.now().toISOString(),
  });
  await answer(
    deps,
    connectionId,
    { type: 'feedback_recorded', messageId: frame.messageId, rating: frame.rating },
    frame.requestId,
    { conversationId: frame.conversationId, agentId: execution.agentId },
  );
}

/**
 * A sink that runs `bind` with the conversation of the first event, and passes every event on, in
 * order, only once that is done. `settled` waits for the events published so far to be passed on.
 */
function bindingFirst(
  inner: TurnEventSink,
  bind: (conversationId: string) => Promise<void>,
): { sink: TurnEventSink; settled: () => Promise<void> } {
  let chain: Promise<void> | undefined;
  let tail: Promise<void> = Promise.resolve();
  return {
    sink: {
      publish(scope, event) {
        chain ??= bind(scope.conversationId).catch(() => undefined);
        tail = tail.then(() => chain).then(() => inner.publish(scope, event));
      },
    },
    settled: () => tail,
  };
}
