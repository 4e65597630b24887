import { useEffect, useRef, useState } from 'preact/hooks';
import { api, must, type ResponseOf } from '../api/client';
import { useLive } from '../api/live';
import { Empty, ErrorNote, formatDate, Loading, Page, useAction, useAgentNames, useLoad } from '../ui';

type Approval = ResponseOf<'/v1/approvals', 'get'>['items'][number];
type Action = ResponseOf<'/v1/actions/{id}', 'get'>;

/**
 * Live: the page follows every agent over the WebSocket and reloads when an approval is requested
 * or decided. The slow poll is the fallback for a socket that is down (or an event missed while
 * reconnecting).
 */
const POLL_MS = 30_000;
const SETTLING = new Set(['awaiting_approval', 'executing', 'approved']);

function Params({ params }: { params: Record<string, unknown> }) {
  const entries = Object.entries(params);
  if (entries.length === 0) return null;
  return (
    <dl class="params">
      {entries.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** What became of the action an approval was for, followed until the workflow has run it. */
function Outcome({ actionId }: { actionId: string }) {
  const [action, setAction] = useState<Action | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let stopped = false;
    let tries = 0;
    const look = async () => {
      try {
        const found = await must(api().GET('/v1/actions/{id}', { params: { path: { id: actionId } } }));
        if (stopped) return;
        setAction(found);
        if (SETTLING.has(found.status) && ++tries < 120) setTimeout(look, 500);
      } catch (caught) {
        if (!stopped) setError(caught instanceof Error ? caught.message : String(caught));
      }
    };
    void look();
    return () => {
      stopped = true;
    };
  }, [actionId]);
  if (error) return <ErrorNote message={error} />;
  if (!action) return <span class="muted">Checking the action…</span>;
  return (
    <span role="status" class={`badge action-${action.status}`}>
      Action {action.action}: {action.status.replace(/_/g, ' ')}
    </span>
  );
}

function ApprovalCard({
  approval,
  agentName,
  decided,
}: {
  approval: Approval;
  agentName: string;
  decided: () => void;
}) {
  const [comment, setComment] = useState('');
  const [outcome, setOutcome] = useState<string | undefined>();
  const decide = useAction(async (verdict: 'approve' | 'reject') => {
    const body = comment.trim() ? { comment: comment.trim() } : {};
    const path = { params: { path: { id: approval.id } }, body };
    await must(
      verdict === 'approve'
        ? api().POST('/v1/approvals/{id}/approve', path)
        : api().POST('/v1/approvals/{id}/reject', path),
    );
    setOutcome(verdict === 'approve' ? 'Approved.' : 'Rejected.');
    decided();
  });
  const commentId = `comment-${approval.id}`;
  return (
    <article class="card" aria-labelledby={`title-${approval.id}`}>
      <h3 id={`title-${approval.id}`}>
        {approval.action.replace(/_/g, ' ')} <span class="badge">{approval.level}</span>
      </h3>
      <p>{approval.reason}</p>
      <Params params={approval.params} />
      <p class="muted">
        Agent {agentName} · asked {formatDate(approval.createdAt)} · expires {formatDate(approval.expiresAt)}
      </p>
      {approval.status === 'pending' && !outcome ? (
        <>
          <label for={commentId}>Comment (optional)</label>
          <input id={commentId} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          <div class="row">
            <button type="button" disabled={decide.pending} onClick={() => void decide.run('approve')}>
              Approve
            </button>
            <button
              type="button"
              class="secondary danger"
              disabled={decide.pending}
              onClick={() => void decide.run('reject')}
            >
              Reject
            </button>
          </div>
        </>
      ) : (
        <p>
          {outcome ?? `${approval.status}${approval.comment ? `: “${approval.comment}”` : ''}`}{' '}
          <Outcome actionId={approval.actionId} />
        </p>
      )}
      <ErrorNote message={decide.error} />
    </article>
  );
}

type Suggested = ResponseOf<'/v1/actions', 'get'>['items'][number];

/** An action the agent suggested in your name: it runs only if you confirm it. */
function SuggestionCard({ action, agentName }: { action: Suggested; agentName: string }) {
  const [outcome, setOutcome] = useState<string | undefined>();
  const answer = useAction(async (verdict: 'confirm' | 'decline') => {
    const path = { params: { path: { id: action.id } } };
    await must(
      verdict === 'confirm'
        ? api().POST('/v1/suggestions/{id}/confirm', path)
        : api().POST('/v1/suggestions/{id}/decline', path),
    );
    setOutcome(verdict === 'confirm' ? 'Confirmed.' : 'Declined.');
  });
  return (
    <article class="card" aria-labelledby={`title-${action.id}`}>
      <h3 id={`title-${action.id}`}>
        {action.action.replace(/_/g, ' ')} <span class="badge">suggestion</span>
      </h3>
      <p>{action.decision.reason}</p>
      <Params params={action.params} />
      <p class="muted">
        Agent {agentName} · {action.cost} tokens
      </p>
      {outcome ? (
        <p>
          {outcome} <Outcome actionId={action.id} />
        </p>
      ) : (
        <div class="row">
          <button type="button" disabled={answer.pending} onClick={() => void answer.run('confirm')}>
            Confirm
          </button>
          <button
            type="button"
            class="secondary danger"
            disabled={answer.pending}
            onClick={() => void answer.run('decline')}
          >
            Decline
          </button>
        </div>
      )}
      <ErrorNote message={answer.error} />
    </article>
  );
}

/** Suggestions waiting for the signed-in user (polled with the approvals). */
function Suggestions({ tick, agentName }: { tick: number; agentName: (id: string) => string }) {
  const list = useLoad(
    () =>
      must(api().GET('/v1/actions', { params: { query: { status: 'awaiting_confirmation', limit: 50 } } })),
    [tick],
  );
  const [seen, setSeen] = useState<Suggested[]>([]);
  const items = list.data?.items ?? [];
  useEffect(() => {
    if (items.length > 0) {
      setSeen((previous) => [...previous, ...items.filter((i) => !previous.some((p) => p.id === i.id))]);
    }
  }, [list.data]);
  if (seen.length === 0 && !list.error) return null;
  return (
    <section aria-labelledby="suggestions-title">
      <h2 id="suggestions-title">Suggestions to confirm</h2>
      <ErrorNote message={list.error} />
      <div class="cards">
        {seen.map((action) => (
          <SuggestionCard key={action.id} action={action} agentName={agentName(action.agentId)} />
        ))}
      </div>
    </section>
  );
}

/** Coordinators' inbox: approvals waiting for a decision (and those decided, on demand). */
export function ApprovalsPage() {
  const [status, setStatus] = useState<Approval['status']>('pending');
  const list = useLoad(
    () => must(api().GET('/v1/approvals', { params: { query: { status, limit: 50 } } })),
    [status],
  );
  // Decided cards stay where they are until the next look, so their outcome can be read.
  const [kept, setKept] = useState<Approval[]>([]);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (status !== 'pending') return;
    const timer = setInterval(() => {
      list.reload();
      setTick((t) => t + 1);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [status, list.reload]);
  const agentName = useAgentNames();
  const agents = useLoad(() => must(api().GET('/v1/agents', { params: { query: { limit: 100 } } })), []);
  const [lastEvent, setLastEvent] = useState<string | undefined>();
  const live = useLive(
    (frame) => {
      // A suggestion is an action decided `awaiting_confirmation`: it has no approval event of its own.
      if (frame.type === 'agent_action' && frame.outcome === 'awaiting_confirmation') {
        setLastEvent(`New suggestion to confirm: ${frame.action.replace(/_/g, ' ')}.`);
        setTick((t) => t + 1);
        return;
      }
      // An emergency stop cancels what waits: suggestions (no approval event) and approvals alike.
      if (frame.type === 'agent_action' && frame.outcome === 'cancelled') {
        setLastEvent(`Cancelled: ${frame.action.replace(/_/g, ' ')}.`);
        list.reload();
        setTick((t) => t + 1);
        return;
      }
      if (frame.type !== 'approval_requested' && frame.type !== 'approval_decided') return;
      setLastEvent(
        frame.type === 'approval_requested'
          ? `New approval requested: ${frame.action.replace(/_/g, ' ')}.`
          : `An approval was ${frame.decision}.`,
      );
      list.reload();
      setTick((t) => t + 1);
    },
    (agents.data?.items ?? []).map((agent) => agent.id),
  );
  // Back from a dropped socket: what was asked for meanwhile was not pushed, so look once now.
  const wasDown = useRef(false);
  useEffect(() => {
    if (live === 'reconnecting') wasDown.current = true;
    else if (live === 'open' && wasDown.current) {
      wasDown.current = false;
      list.reload();
      setTick((t) => t + 1);
    }
  }, [live, list.reload]);
  const items = list.data?.items ?? [];
  const shown = [...kept.filter((k) => !items.some((i) => i.id === k.id)), ...items];
  return (
    <Page title="Approvals and suggestions">
      <form class="filters" aria-label="Filter approvals" onSubmit={(e) => e.preventDefault()}>
        <label>
          Show
          <select
            value={status}
            onChange={(e) => {
              setKept([]);
              setStatus(e.currentTarget.value as Approval['status']);
            }}
          >
            {(['pending', 'approved', 'rejected', 'expired', 'cancelled'] as const).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {status === 'pending' ? (
          <span class="muted" role="status" aria-live="polite">
            {live === 'open'
              ? 'Live: new approvals appear as they are asked for.'
              : live === 'connecting'
                ? 'Connecting to live updates…'
                : `Connection lost: reconnecting; meanwhile checked every ${POLL_MS / 1000} seconds.`}
          </span>
        ) : null}
      </form>
      {status === 'pending' ? <Suggestions tick={tick} agentName={agentName} /> : null}
      <h2>{status === 'pending' ? 'Approvals waiting for a decision' : `Approvals ${status}`}</h2>
      <p class="visually-hidden" role="status" aria-live="polite">
        {lastEvent ?? ''}
      </p>
      <ErrorNote message={list.error} />
      {list.loading && !list.data ? <Loading what="approvals" /> : null}
      {list.data && shown.length === 0 ? (
        <Empty title={status === 'pending' ? 'Nothing is waiting for you.' : `No ${status} approvals.`}>
          <p>
            Actions that need a person (payments, by default, or what your policy says) appear here while
            their tokens are held.
          </p>
        </Empty>
      ) : null}
      <div class="cards">
        {shown.map((approval) => (
          <ApprovalCard
            key={approval.id}
            approval={approval}
            agentName={agentName(approval.agentId)}
            decided={() => setKept((previous) => [...previous, approval])}
          />
        ))}
      </div>
    </Page>
  );
}
