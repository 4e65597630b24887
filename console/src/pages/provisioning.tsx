import { useEffect, useState } from 'preact/hooks';
import { api, must, type ResponseOf } from '../api/client';
import { Empty, ErrorNote, formatDate, Loading, Page, useAction, useLoad } from '../ui';

/** The form (every channel's fields and where to find each value) loads with this page only. */
type FormComponent = typeof import('./provisioning-form').ProvisionForm;
let loadedForm: FormComponent | undefined;
function useProvisionForm(): { form: FormComponent | undefined; error: string | undefined } {
  const [form, setForm] = useState<FormComponent | undefined>(() => loadedForm);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (loadedForm) return;
    import('./provisioning-form').then(
      (module) => {
        loadedForm = module.ProvisionForm;
        setForm(() => module.ProvisionForm);
      },
      () => setError('The form could not be loaded: reload the page.'),
    );
  }, []);
  return { form, error };
}

type Provisioning = ResponseOf<'/v1/provisioning/{id}', 'get'>;
type Step = Provisioning['steps'][number];

const POLL_MS = 400;
const STEP_WORDS: Record<Step['status'], string> = {
  pending: 'waiting',
  running: 'running…',
  done: 'done',
  failed: 'failed',
  compensated: 'undone',
  'compensation-failed': 'undo failed: clean up by hand',
  released: 'released',
  'release-failed': 'release failed: clean up by hand',
};

type Summary = ResponseOf<'/v1/provisioning', 'get'>['items'][number];
type Status = Summary['status'];
const LIST_POLL_MS = 2000;

/**
 * `#/provisioning`: start one (a new agent on its channels) and the provisionings so far;
 * `#/provisioning?agent=agt_…`: one more channel for that agent, and that agent's provisionings.
 */
export function ProvisionPage({ agentId }: { agentId?: string }) {
  const agent = useLoad(
    () =>
      agentId
        ? must(api().GET('/v1/agents/{id}', { params: { path: { id: agentId } } }))
        : Promise.resolve(undefined),
    [agentId],
  );
  const form = useProvisionForm();
  return (
    <Page title={agentId ? 'Provision a channel' : 'Provision an agent'}>
      <p class="muted">
        {agentId ? 'Sets up the channel' : 'Creates the agent and sets up each channel'} one step at a time;
        if a step fails, what was done is undone in reverse and the agent is marked in error.
      </p>
      <ErrorNote message={agent.error ?? form.error} />
      {form.form ? (
        <form.form
          key={agentId ?? 'new'}
          {...(agentId ? { agentId } : {})}
          {...(agent.data ? { agentName: agent.data.name } : {})}
        />
      ) : form.error ? null : (
        <Loading what="the form" />
      )}
      <ProvisioningList {...(agentId ? { agentId } : {})} />
    </Page>
  );
}

/** The provisionings so far, newest first, a page at a time; refreshed while one is running. */
function ProvisioningList({ agentId }: { agentId?: string }) {
  const [status, setStatus] = useState<Status | ''>('');
  const [more, setMore] = useState<{ items: Summary[]; nextCursor?: string } | undefined>();
  const query = { limit: 20, ...(agentId ? { agentId } : {}), ...(status ? { status } : {}) };
  const first = useLoad(() => must(api().GET('/v1/provisioning', { params: { query } })), [agentId, status]);
  useEffect(() => setMore(undefined), [agentId, status]);
  const items = [...(first.data?.items ?? []), ...(more?.items ?? [])];
  const nextCursor = more ? more.nextCursor : first.data?.nextCursor;
  const running = first.data?.items.some((p) => p.status === 'running') ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(first.reload, LIST_POLL_MS);
    return () => clearTimeout(timer);
  }, [running, first.data]);
  const loadMore = useAction(async () => {
    if (!nextCursor) return;
    const page = await must(
      api().GET('/v1/provisioning', { params: { query: { ...query, cursor: nextCursor } } }),
    );
    setMore({
      items: [...(more?.items ?? []), ...page.items],
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    });
  });
  return (
    <>
      <h2 id="past-provisionings">{agentId ? 'This agent’s provisionings' : 'Provisionings so far'}</h2>
      <form class="filters" aria-label="Filter provisionings" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as Status | '')}>
            <option value="">Any</option>
            <option value="running">running</option>
            <option value="succeeded">succeeded</option>
            <option value="failed">failed</option>
          </select>
        </label>
      </form>
      <ErrorNote message={first.error} />
      {first.loading && !first.data ? <Loading what="provisionings" /> : null}
      {first.data && items.length === 0 ? (
        <Empty title={status ? `No ${status} provisionings.` : 'No provisionings yet.'}>
          <p>
            {agentId
              ? 'Choose a channel above, fill in what it asks for and press Provision: each step shows as it runs.'
              : 'Fill in the agent’s name and business type above, tick the channels it should answer on (each asks for what its provider gave you) and press Provision: each step shows as it runs, and the result is listed here.'}
          </p>
        </Empty>
      ) : null}
      {items.length > 0 ? (
        <div class="table-wrap">
          <table aria-labelledby="past-provisionings">
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Agent</th>
                <th scope="col">Channels</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id}>
                  <td>
                    <a href={`#/provisioning/${p.id}`}>{formatDate(p.startedAt)}</a>
                    {p.finishedAt ? <span class="hint">finished {formatDate(p.finishedAt)}</span> : null}
                  </td>
                  <td>
                    <a href={`#/agents/${p.agentId}`}>{p.agentName ?? p.agentId}</a>
                    {p.kind === 'channel' ? <span class="hint">channel added</span> : null}
                  </td>
                  <td>{p.channels.map((c) => c.type + (c.address ? ` (${c.address})` : '')).join(', ')}</td>
                  <td>
                    <span class={`badge provisioning-${p.status}`}>{p.status}</span>
                    {p.failure ? (
                      <span class="hint">
                        {p.failure.step ? `at ${p.failure.step}: ` : ''}
                        {p.failure.reason}
                        {p.undone > 0 ? ` · ${p.undone} step${p.undone === 1 ? '' : 's'} undone` : ''}
                      </span>
                    ) : null}
                    {p.leftBehind.length > 0 ? (
                      <span class="hint">left behind: {p.leftBehind.join(', ')}</span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {nextCursor ? (
        <button
          type="button"
          class="secondary"
          disabled={loadMore.pending}
          onClick={() => void loadMore.run()}
        >
          {loadMore.pending ? 'Loading…' : 'Load more'}
        </button>
      ) : null}
      <ErrorNote message={loadMore.error} />
    </>
  );
}

/** One provisioning, followed step by step until it is no longer running. */
export function ProvisioningPage({ id }: { id: string }) {
  const [record, setRecord] = useState<Provisioning | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let stopped = false;
    const look = async () => {
      try {
        const found = await must(api().GET('/v1/provisioning/{id}', { params: { path: { id } } }));
        if (stopped) return;
        setRecord(found);
        setError(undefined);
        if (found.status === 'running') setTimeout(look, POLL_MS);
      } catch (caught) {
        if (stopped) return;
        setError(caught instanceof Error ? caught.message : String(caught));
        setTimeout(look, POLL_MS * 5);
      }
    };
    void look();
    return () => {
      stopped = true;
    };
  }, [id]);
  return (
    <Page title="Provisioning">
      <ErrorNote message={error} />
      {!record && !error ? <Loading what="the provisioning" /> : null}
      {record ? (
        <>
          <p role="status" aria-live="polite">
            <span class={`badge provisioning-${record.status}`}>{record.status}</span>{' '}
            {record.status === 'running'
              ? 'Working through the steps…'
              : record.status === 'succeeded'
                ? 'Every step is done: the agent is active.'
                : `Failed${record.failure?.step ? ` at ${record.failure.step}` : ''}: ${record.failure?.reason ?? ''}`}
          </p>
          <p>
            Agent: <a href={`#/agents/${record.agentId}`}>{record.agentName ?? record.agentId}</a> · channels{' '}
            {record.channels.map((c) => c.type + (c.address ? ` (${c.address})` : '')).join(', ')}
          </p>
          <table>
            <caption>Steps, in order</caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Finished</th>
              </tr>
            </thead>
            <tbody>
              {record.steps.map((step) => (
                <tr key={step.key}>
                  <th scope="row">{step.key}</th>
                  <td>
                    <span class={`badge step-${step.status}`}>
                      {step.status === 'pending' && record.status !== 'running'
                        ? 'not run'
                        : STEP_WORDS[step.status]}
                    </span>
                    {step.error ? <span class="muted"> {step.error}</span> : null}
                    {step.compensationError ? <span class="muted"> {step.compensationError}</span> : null}
                  </td>
                  <td>
                    {step.created
                      ? Object.entries(step.created)
                          .map(([k, v]) => `${k}: ${v}`)
                          .join(', ')
                      : ''}
                  </td>
                  <td>{formatDate(step.compensatedAt ?? step.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {record.leftBehind.length > 0 ? (
            <ErrorNote message={`Left behind (undo failed after retries): ${record.leftBehind.join(', ')}`} />
          ) : null}
          <p>
            <a href="#/provisioning">All provisionings, or provision another agent</a>
          </p>
        </>
      ) : null}
    </Page>
  );
}
