import { useRef, useState } from 'preact/hooks';
import { api, must } from '../api/client';
import { live, type ServerFrame, useLive } from '../api/live';
import { loadSession } from '../session';
import { ErrorNote, Loading, Page, useLoad } from '../ui';

interface ToolRun {
  readonly tool: string;
  status: 'started' | 'succeeded' | 'failed';
  error?: string;
}
interface Decision {
  readonly action: string;
  readonly level: string;
  readonly outcome: string;
}
interface Turn {
  readonly id: number;
  readonly question: string;
  executionId?: string;
  thinking: boolean;
  answer: string;
  done: boolean;
  error?: string;
  /** The agent's message (`exe_…#n`), for feedback. */
  messageId?: string;
  rating?: 'up' | 'down';
  tools: ToolRun[];
  decisions: Decision[];
  lastSeq: number;
}

/** What a turn's frame does to the turn (frames are ordered and de-duplicated by `seq`). */
function apply(turn: Turn, frame: ServerFrame): Turn {
  if (frame.executionId && turn.executionId && frame.executionId !== turn.executionId) return turn;
  if (frame.seq > 0 && frame.seq <= turn.lastSeq) return turn;
  const next: Turn = {
    ...turn,
    executionId: turn.executionId ?? frame.executionId ?? undefined,
    lastSeq: Math.max(turn.lastSeq, frame.seq),
  };
  switch (frame.type) {
    case 'agent_thinking':
      return { ...next, thinking: true };
    case 'agent_message_delta':
      return { ...next, thinking: false, answer: next.answer + frame.text };
    case 'agent_message':
      return {
        ...next,
        thinking: false,
        answer: frame.text,
        done: true,
        ...(frame.messageId ? { messageId: frame.messageId } : {}),
      };
    case 'tool_execution': {
      const tools = [...next.tools];
      const running = tools.findIndex((t) => t.tool === frame.tool && t.status === 'started');
      const run: ToolRun = {
        tool: frame.tool,
        status: frame.status,
        ...(frame.error ? { error: frame.error } : {}),
      };
      if (frame.status !== 'started' && running >= 0) tools[running] = run;
      else tools.push(run);
      return { ...next, tools };
    }
    case 'agent_action':
      return {
        ...next,
        decisions: [...next.decisions, { action: frame.action, level: frame.level, outcome: frame.outcome }],
      };
    case 'error':
      return { ...next, thinking: false, done: true, error: frame.message };
    default:
      return next;
  }
}

const TOOL_WORDS = { started: 'running…', succeeded: 'done', failed: 'failed' } as const;

/** Talks to one agent over the WebSocket, showing the turn as it happens. */
export function PlaygroundPage({ agentId }: { agentId: string }) {
  const agent = useLoad(
    () => must(api().GET('/v1/agents/{id}', { params: { path: { id: agentId } } })),
    [agentId],
  );
  const [turns, setTurns] = useState<Turn[]>([]);
  const [message, setMessage] = useState('');
  const [feedbackError, setFeedbackError] = useState<string | undefined>();
  const conversation = useRef<string | undefined>(undefined);
  // Followed explicitly too, so a reconnected socket subscribes to the conversation again.
  const [followed, setFollowed] = useState<string | undefined>();
  const counter = useRef(0);
  const state = useLive(
    (frame) => {
      if (frame.agentId && frame.agentId !== agentId) return;
      if (conversation.current && frame.conversationId && frame.conversationId !== conversation.current)
        return;
      if (frame.type === 'feedback_recorded') {
        const rated = frame;
        setTurns((all) =>
          all.map((t) => (t.messageId === rated.messageId ? { ...t, rating: rated.rating } : t)),
        );
        return;
      }
      if (frame.type === 'subscribed' || frame.type === 'unsubscribed') return;
      if (frame.type === 'error' && frame.requestId?.startsWith('feedback-')) {
        setFeedbackError(frame.message);
        return;
      }
      if (!frame.requestId?.startsWith('turn-') && frame.type === 'message_accepted') return;
      if (frame.conversationId && !conversation.current) {
        conversation.current = frame.conversationId;
        setFollowed(frame.conversationId);
      }
      setTurns((all) => {
        const target = frame.requestId?.startsWith('turn-')
          ? all.findIndex((t) => `turn-${t.id}` === frame.requestId)
          : all.findLastIndex((t) => !t.done || t.executionId === frame.executionId);
        if (target < 0) return all;
        const copy = [...all];
        copy[target] = apply(copy[target] as Turn, frame);
        return copy;
      });
    },
    followed ? [followed] : [],
  );
  const pending = turns.some((t) => !t.done);

  const send = (event: Event) => {
    event.preventDefault();
    const text = message.trim();
    const session = loadSession();
    if (!text || !session) return;
    const id = ++counter.current;
    setTurns((all) => [
      ...all,
      { id, question: text, thinking: false, answer: '', done: false, tools: [], decisions: [], lastSeq: 0 },
    ]);
    setMessage('');
    live(session.token).send({
      action: 'send_message',
      agentId,
      message: text,
      requestId: `turn-${id}`,
      ...(conversation.current ? { conversationId: conversation.current } : {}),
    });
  };

  const rate = (turn: Turn, rating: 'up' | 'down') => {
    const session = loadSession();
    if (!session || !turn.messageId || !conversation.current) return;
    setFeedbackError(undefined);
    live(session.token).send({
      action: 'agent_feedback',
      conversationId: conversation.current,
      messageId: turn.messageId,
      rating,
      requestId: `feedback-${turn.id}`,
    });
  };

  const name = agent.data?.name ?? 'Agent';
  return (
    <Page
      title={`Chat with ${name}`}
      actions={
        <a class="button secondary" href={`#/agents/${agentId}`}>
          Back to {name}
        </a>
      }
    >
      {agent.loading && !agent.data ? <Loading what="the agent" /> : null}
      <ErrorNote message={agent.error} />
      <p class="muted" role="status" aria-live="polite">
        {state === 'open'
          ? 'Connected.'
          : state === 'connecting'
            ? 'Connecting…'
            : state === 'reconnecting'
              ? 'Connection lost: reconnecting…'
              : 'Not connected: retrying shortly.'}
        {agent.data && agent.data.status !== 'active'
          ? ` The agent is ${agent.data.status}: start it to chat.`
          : ''}
      </p>
      <ol class="transcript" aria-label="Conversation">
        {turns.map((turn) => (
          <li key={turn.id} class="turn">
            <p class="from-user">
              <strong>You:</strong> {turn.question}
            </p>
            {turn.tools.length > 0 || turn.decisions.length > 0 ? (
              <ul class="turn-events" aria-label="What the agent did">
                {turn.tools.map((tool, index) => (
                  <li key={`t${index}`} class={`tool tool-${tool.status}`}>
                    Tool <code>{tool.tool}</code>: {TOOL_WORDS[tool.status]}
                    {tool.error ? ` (${tool.error})` : ''}
                  </li>
                ))}
                {turn.decisions.map((decision, index) => (
                  <li key={`d${index}`} class="decision">
                    Action <code>{decision.action}</code>: {decision.level},{' '}
                    {decision.outcome.replace(/_/g, ' ')}
                  </li>
                ))}
              </ul>
            ) : null}
            <div class="from-agent" aria-live="polite" aria-busy={!turn.done}>
              <strong>{name}:</strong>{' '}
              {turn.answer ||
                (turn.thinking ? (
                  <span class="muted">thinking…</span>
                ) : turn.done ? (
                  ''
                ) : (
                  <span class="muted">…</span>
                ))}
            </div>
            {turn.done && turn.messageId ? (
              <div class="row feedback">
                {turn.rating ? (
                  <span role="status">
                    Feedback recorded: {turn.rating === 'up' ? 'helpful' : 'not helpful'}.
                  </span>
                ) : (
                  <>
                    <button type="button" class="secondary" onClick={() => rate(turn, 'up')}>
                      Helpful
                    </button>
                    <button type="button" class="secondary" onClick={() => rate(turn, 'down')}>
                      Not helpful
                    </button>
                  </>
                )}
              </div>
            ) : null}
            <ErrorNote message={turn.error} />
          </li>
        ))}
      </ol>
      <ErrorNote message={feedbackError} />
      {turns.length === 0 ? (
        <p class="muted">
          Ask something as a customer would: the answer streams in, with each tool the agent uses.
        </p>
      ) : null}
      <form class="chat-form" onSubmit={send}>
        <label for="chat-message">Message</label>
        <div class="row">
          <input
            id="chat-message"
            value={message}
            maxLength={4000}
            autoComplete="off"
            onInput={(e) => setMessage(e.currentTarget.value)}
          />
          <button type="submit" disabled={pending || !message.trim()}>
            Send
          </button>
        </div>
      </form>
    </Page>
  );
}
