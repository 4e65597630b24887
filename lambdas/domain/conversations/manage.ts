import { NotFoundError } from '../shared/errors';
import type { Page } from '../shared/pagination';
import type { Principal } from '../shared/principal';
import type {
  Conversation,
  ConversationFilter,
  ConversationRepository,
  ConversationStatus,
  Message,
} from './conversations';

export interface ConversationDeps {
  readonly conversations: ConversationRepository;
}

/** A conversation as callers see it: where the summary ends is the runtime's bookkeeping. */
export type ConversationView = Omit<Conversation, 'summarizedThrough'>;

export function conversationView(conversation: Conversation): ConversationView {
  const { summarizedThrough: _internal, ...view } = conversation;
  return view;
}

async function findConversation(deps: ConversationDeps, principal: Principal, id: string) {
  const conversation = await deps.conversations.get(principal.tenantId, id);
  if (!conversation) throw new NotFoundError('Conversation', id);
  return conversation;
}

export async function getConversation(
  deps: ConversationDeps,
  principal: Principal,
  id: string,
): Promise<ConversationView> {
  return conversationView(await findConversation(deps, principal, id));
}

export async function listConversations(
  deps: ConversationDeps,
  principal: Principal,
  filter: ConversationFilter,
): Promise<Page<ConversationView>> {
  const page = await deps.conversations.list(principal.tenantId, filter);
  return { ...page, items: page.items.map(conversationView) };
}

export async function listMessages(
  deps: ConversationDeps,
  principal: Principal,
  id: string,
  page: { limit: number; cursor?: string; order: 'asc' | 'desc' },
) {
  await findConversation(deps, principal, id);
  return deps.conversations.messages(principal.tenantId, id, page);
}

/** Pausing hands the conversation to a person: the agent stops answering until it is resumed. */
export async function setConversationStatus(
  deps: ConversationDeps,
  principal: Principal,
  id: string,
  status: ConversationStatus,
): Promise<ConversationView> {
  await findConversation(deps, principal, id);
  return conversationView(await deps.conversations.setStatus(principal.tenantId, id, status));
}

/** Upper bound of an export, so one request cannot read a conversation without end. */
export const EXPORT_MESSAGE_LIMIT = 10_000;

export async function exportConversation(
  deps: ConversationDeps,
  principal: Principal,
  id: string,
): Promise<{ conversation: ConversationView; messages: Message[]; truncated: boolean }> {
  const conversation = await getConversation(deps, principal, id);
  const messages: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.conversations.messages(principal.tenantId, id, {
      limit: 100,
      order: 'asc',
      ...(cursor ? { cursor } : {}),
    });
    messages.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && messages.length < EXPORT_MESSAGE_LIMIT);
  return {
    conversation,
    messages: messages.slice(0, EXPORT_MESSAGE_LIMIT),
    truncated: messages.length > EXPORT_MESSAGE_LIMIT || !!cursor,
  };
}

const csvCell = (value: unknown) => {
  const text = value === undefined || value === null ? '' : String(value);
  // Cells that a spreadsheet would run as a formula are prefixed so they stay text.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function messagesToCsv(messages: readonly Message[]): string {
  const header = ['createdAt', 'role', 'content', 'executionId', 'inputTokens', 'outputTokens'];
  const rows = messages.map((m) =>
    [m.createdAt, m.role, m.content, m.executionId, m.inputTokens, m.outputTokens].map(csvCell).join(','),
  );
  return `${[header.join(','), ...rows].join('\r\n')}\r\n`;
}
