import { useState } from 'preact/hooks';
import { api, must, type ResponseOf } from '../api/client';
import { Empty, ErrorNote, formatDate, Loading, Page, useAction, useAgentNames, useLoad } from '../ui';

type Conversation = ResponseOf<'/v1/conversations/{id}', 'get'>;
type Status = Conversation['status'];
type Channel = Conversation['channel'];

/** Every channel the API knows, in words: `satisfies` breaks the build when the API's list changes. */
const CHANNEL_NAMES = {
  web: 'Web chat',
  sms: 'SMS',
  whatsapp: 'WhatsApp',
  voice: 'Phone',
  slack: 'Slack',
  telegram: 'Telegram',
  messenger: 'Messenger',
  instagram: 'Instagram',
  email: 'Email',
} as const satisfies Record<Channel, string>;
const CHANNELS = Object.keys(CHANNEL_NAMES) as Channel[];
const channelName = (channel: Channel) => CHANNEL_NAMES[channel] ?? channel;

/**
 * Conversations by agent, channel, customer and status. A filtered page may come back short (the
 * API filters the activity-ordered listing), so "Older" follows the cursor, never the page size.
 */
export function ConversationsPage() {
  const agents = useLoad(() => must(api().GET('/v1/agents', { params: { query: { limit: 100 } } })), []);
  const agentName = useAgentNames();
  const [agentId, setAgentId] = useState('');
  const [status, setStatus] = useState<Status | ''>('');
  const [channel, setChannel] = useState<Channel | ''>('');
  const [customerId, setCustomerId] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const cursor = pages[pages.length - 1];
  const list = useLoad(
    () =>
      must(
        api().GET('/v1/conversations', {
          params: {
            query: {
              limit: 25,
              ...(agentId ? { agentId } : {}),
              ...(channel ? { channel } : {}),
              ...(status ? { status } : {}),
              ...(customerId.trim() ? { customerId: customerId.trim() } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    [agentId, channel, status, customerId, cursor],
  );
  const filtered = Boolean(agentId || channel || status || customerId.trim());
  return (
    <Page title="Conversations">
      <form class="filters" aria-label="Search conversations" onSubmit={(e) => e.preventDefault()}>
        <label>
          Agent
          <select
            value={agentId}
            onChange={(e) => {
              setPages([]);
              setAgentId(e.currentTarget.value);
            }}
          >
            <option value="">Any</option>
            {agents.data?.items.map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <select
            value={channel}
            onChange={(e) => {
              setPages([]);
              setChannel(e.currentTarget.value as Channel | '');
            }}
          >
            <option value="">Any</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {channelName(c)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              setPages([]);
              setStatus(e.currentTarget.value as Status | '');
            }}
          >
            <option value="">Any</option>
            {(['active', 'paused', 'handoff', 'archived'] as const).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Customer id
          <input
            value={customerId}
            onChange={(e) => {
              setPages([]);
              setCustomerId(e.currentTarget.value);
            }}
          />
        </label>
      </form>
      <ErrorNote message={list.error} />
      {list.loading && !list.data ? <Loading what="conversations" /> : null}
      {list.data && list.data.items.length === 0 && list.data.nextCursor ? (
        <p class="muted">
          None on this page match the filters; older conversations may: choose Older to keep looking.
        </p>
      ) : null}
      {list.data && list.data.items.length === 0 && !list.data.nextCursor ? (
        filtered ? (
          <Empty title="No conversation matches these filters.">
            <p>Choose Any in a filter, or clear the customer id, to see more.</p>
          </Empty>
        ) : (
          <Empty title="No conversations here yet.">
            <p>
              When customers talk to an active agent (web chat, SMS, WhatsApp, …) their conversations appear
              here; you can read them, take one over and answer as staff.
            </p>
          </Empty>
        )
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Conversations, latest first</caption>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">Agent</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Messages</th>
                <th scope="col">Last message</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((conversation) => (
                <tr key={conversation.id}>
                  <td>
                    <a href={`#/conversations/${conversation.id}`}>{conversation.customerId}</a>
                  </td>
                  <td>{agentName(conversation.agentId)}</td>
                  <td>{channelName(conversation.channel)}</td>
                  <td>
                    <span class={`badge conversation-${conversation.status}`}>{conversation.status}</span>
                  </td>
                  <td>{conversation.messageCount}</td>
                  <td>{formatDate(conversation.lastMessageAt ?? conversation.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <nav class="row pager" aria-label="Pages of conversations">
        {pages.length > 0 ? (
          <button type="button" class="secondary" onClick={() => setPages(pages.slice(0, -1))}>
            Newer
          </button>
        ) : null}
        {list.data?.nextCursor ? (
          <button
            type="button"
            class="secondary"
            onClick={() => setPages([...pages, list.data?.nextCursor ?? ''])}
          >
            Older
          </button>
        ) : null}
      </nav>
    </Page>
  );
}

/** One conversation: its transcript, handing it to a person and back, and replying as staff. */
export function ConversationPage({ id }: { id: string }) {
  const conversation = useLoad(
    () => must(api().GET('/v1/conversations/{id}', { params: { path: { id } } })),
    [id],
  );
  const messages = useLoad(
    () =>
      must(
        api().GET('/v1/conversations/{id}/messages', {
          params: { path: { id }, query: { order: 'asc', limit: 100 } },
        }),
      ),
    [id],
  );
  const agentName = useAgentNames();
  const [reason, setReason] = useState('');
  const [reply, setReply] = useState('');
  const refresh = () => {
    conversation.reload();
    messages.reload();
  };
  const handoff = useAction(async () => {
    await must(
      api().POST('/v1/conversations/{id}/handoff', {
        params: { path: { id } },
        body: reason.trim() ? { reason: reason.trim() } : {},
      }),
    );
    refresh();
  });
  const resume = useAction(async () => {
    await must(api().POST('/v1/conversations/{id}/resume-agent', { params: { path: { id } } }));
    refresh();
  });
  const send = useAction(async () => {
    await must(
      api().POST('/v1/conversations/{id}/messages', { params: { path: { id } }, body: { text: reply } }),
    );
    setReply('');
    messages.reload();
  });
  const exportIt = useAction(async () => {
    const data = await must(api().GET('/v1/conversations/{id}/export', { params: { path: { id } } }));
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    link.download = `conversation-${id}.json`;
    link.click();
    URL.revokeObjectURL(link.href);
  });

  const c = conversation.data;
  if (conversation.loading && !c) return <Loading what="the conversation" />;
  if (!c) return <ErrorNote message={conversation.error ?? 'The conversation was not found.'} />;
  return (
    <Page
      title={`Conversation with ${c.customerId}`}
      actions={
        <>
          <span class={`badge conversation-${c.status}`}>{c.status}</span>
          <button
            type="button"
            class="secondary"
            disabled={exportIt.pending}
            onClick={() => void exportIt.run()}
          >
            Export
          </button>
        </>
      }
    >
      <p class="muted">
        {agentName(c.agentId)} · {channelName(c.channel)} · started {formatDate(c.createdAt)}
      </p>
      <ErrorNote message={exportIt.error} />
      <ErrorNote message={messages.error} />
      {messages.loading && !messages.data ? <Loading what="the transcript" /> : null}
      <ol class="transcript" aria-label="Transcript">
        {messages.data?.items.map((message) => (
          <li key={message.id} class={`message from-${message.sentBy ? 'staff' : message.role}`}>
            <p class="who-said">
              {message.sentBy ? `Staff (${message.sentBy})` : message.role === 'user' ? 'Customer' : 'Agent'}{' '}
              · {formatDate(message.createdAt)}
            </p>
            <p>{message.content}</p>
            {message.toolCalls?.length ? (
              <p class="muted">Tools: {message.toolCalls.map((t) => `${t.name} (${t.status})`).join(', ')}</p>
            ) : null}
            {message.unanswered ? <p class="muted">Not answered: {message.unanswered.reason}</p> : null}
          </li>
        ))}
      </ol>
      {messages.data && messages.data.items.length === 0 ? <p class="muted">No messages yet.</p> : null}
      {c.status === 'handoff' ? (
        <>
          <form
            class="card"
            onSubmit={(event) => {
              event.preventDefault();
              void send.run();
            }}
          >
            <label>
              Reply as staff (sent on the {channelName(c.channel)} channel)
              <textarea rows={3} value={reply} onInput={(e) => setReply(e.currentTarget.value)} required />
            </label>
            <ErrorNote message={send.error} />
            <button type="submit" disabled={send.pending}>
              {send.pending ? 'Sending…' : 'Send'}
            </button>
          </form>
          <ErrorNote message={resume.error} />
          <p>
            <button
              type="button"
              class="secondary"
              disabled={resume.pending}
              onClick={() => void resume.run()}
            >
              Hand back to the agent
            </button>
          </p>
        </>
      ) : c.status !== 'archived' ? (
        <form
          class="card"
          onSubmit={(event) => {
            event.preventDefault();
            void handoff.run();
          }}
        >
          <p>Take the conversation over: the agent stops answering it and you reply as staff.</p>
          <label>
            Reason (optional; coordinators are told)
            <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <ErrorNote message={handoff.error} />
          <button type="submit" disabled={handoff.pending}>
            Take over
          </button>
        </form>
      ) : null}
    </Page>
  );
}
