import { useState } from 'preact/hooks';
import { api, must, type ResponseOf } from '../api/client';
import { Empty, ErrorNote, formatDate, Loading, Page, useAction, useLoad } from '../ui';

export type Agent = ResponseOf<'/v1/agents/{id}', 'get'>;
type Status = Agent['status'];
const STATUSES: readonly Status[] = ['draft', 'provisioning', 'active', 'paused', 'stopped', 'error'];

/** Which lifecycle calls each status allows (lambdas/domain/agents/lifecycle.ts). */
const TRANSITIONS: Record<Status, readonly ('start' | 'pause' | 'resume' | 'stop')[]> = {
  draft: ['start'],
  provisioning: ['stop'],
  active: ['pause', 'stop'],
  paused: ['resume', 'stop'],
  stopped: ['start'],
  error: ['start', 'stop'],
};

export function LifecycleButtons({ agent, changed }: { agent: Agent; changed: () => void }) {
  const action = useAction(async (verb: 'start' | 'pause' | 'resume' | 'stop') => {
    await must(api().POST(`/v1/agents/{id}/${verb}`, { params: { path: { id: agent.id } } }));
    changed();
  });
  return (
    <span class="row">
      {TRANSITIONS[agent.status].map((verb) => (
        <button
          type="button"
          key={verb}
          class={verb === 'stop' ? 'secondary danger' : 'secondary'}
          disabled={action.pending}
          onClick={() => void action.run(verb)}
          aria-label={`${verb[0]?.toUpperCase()}${verb.slice(1)} ${agent.name}`}
        >
          {verb[0]?.toUpperCase()}
          {verb.slice(1)}
        </button>
      ))}
      <ErrorNote message={action.error} />
    </span>
  );
}

export function AgentsPage() {
  const [status, setStatus] = useState<Status | ''>('');
  const [namePrefix, setNamePrefix] = useState('');
  const [businessType, setBusinessType] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const cursor = pages[pages.length - 1];
  const list = useLoad(
    () =>
      must(
        api().GET('/v1/agents', {
          params: {
            query: {
              limit: 20,
              sort: 'createdAt',
              order: 'desc',
              ...(status ? { status } : {}),
              ...(namePrefix.trim() ? { namePrefix: namePrefix.trim() } : {}),
              ...(businessType.trim() ? { businessType: businessType.trim() } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    [status, namePrefix, businessType, cursor],
  );
  const filtered = Boolean(status || namePrefix.trim() || businessType.trim());

  return (
    <Page
      title="Agents"
      actions={
        <a class="button" href="#/agents/new">
          New agent
        </a>
      }
    >
      <form class="filters" aria-label="Filter agents" onSubmit={(e) => e.preventDefault()}>
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
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name starts with
          <input
            type="search"
            value={namePrefix}
            onInput={(e) => {
              setPages([]);
              setNamePrefix(e.currentTarget.value);
            }}
          />
        </label>
        <label>
          Business type
          <input
            value={businessType}
            onInput={(e) => {
              setPages([]);
              setBusinessType(e.currentTarget.value);
            }}
          />
        </label>
      </form>
      <ErrorNote message={list.error} />
      {list.loading && !list.data ? <Loading what="agents" /> : null}
      {list.data && list.data.items.length === 0 ? (
        filtered ? (
          <Empty title="No agent matches these filters.">
            <p>Clear a filter to see more.</p>
          </Empty>
        ) : (
          <Empty title="You have no agents yet.">
            <p>
              An agent answers your customers. <a href="#/agents/new">Create your first agent</a>, then start
              it.
            </p>
          </Empty>
        )
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Agents</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Business type</th>
                <th scope="col">Model</th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((agent) => (
                <tr key={agent.id}>
                  <td>
                    <a href={`#/agents/${agent.id}`}>{agent.name}</a>
                  </td>
                  <td>
                    <span class={`badge status-${agent.status}`}>{agent.status}</span>
                  </td>
                  <td>{agent.businessType}</td>
                  <td>
                    {agent.model.provider} · {agent.model.modelId}
                  </td>
                  <td>{formatDate(agent.updatedAt)}</td>
                  <td>
                    <LifecycleButtons agent={agent} changed={list.reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <nav class="row pager" aria-label="Pages of agents">
        {pages.length > 0 ? (
          <button type="button" class="secondary" onClick={() => setPages(pages.slice(0, -1))}>
            Previous page
          </button>
        ) : null}
        {list.data?.nextCursor ? (
          <button
            type="button"
            class="secondary"
            onClick={() => setPages([...pages, list.data?.nextCursor ?? ''])}
          >
            Next page
          </button>
        ) : null}
      </nav>
    </Page>
  );
}
