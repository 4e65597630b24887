import { useState } from 'preact/hooks';
import { api, must, type ResponseOf } from '../api/client';
import { ErrorNote, formatDate, Loading, useAction, useLoad } from '../ui';
import type { Agent } from './agents';

type Version = ResponseOf<'/v1/agents/{id}/versions', 'get'>['items'][number];

/** The agent record's own fields, which are not configuration. */
const RECORD_FIELDS = new Set([
  'id',
  'tenantId',
  'status',
  'statusReason',
  'version',
  'createdAt',
  'updatedAt',
  'createdBy',
  'updatedBy',
  'deletedAt',
]);

/** The configuration fields whose values differ between two configurations, with both values. */
function differences(before: Record<string, unknown>, after: Record<string, unknown>) {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((field) => !RECORD_FIELDS.has(field))
    .sort();
  return fields
    .filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
    .map((field) => ({ field, before: before[field], after: after[field] }));
}

const shown = (value: unknown) => (value === undefined ? '(none)' : JSON.stringify(value, null, 1));

/** What the agent did (stats), and every earlier configuration: what differs from now, and rollback. */
export function AgentHistory({ agent, changed }: { agent: Agent; changed: () => void }) {
  const stats = useLoad(
    () => must(api().GET('/v1/agents/{id}/stats', { params: { path: { id: agent.id } } })),
    [agent.id, agent.version],
  );
  const versions = useLoad(
    () =>
      must(
        api().GET('/v1/agents/{id}/versions', { params: { path: { id: agent.id }, query: { limit: 20 } } }),
      ),
    [agent.id, agent.version],
  );
  const [open, setOpen] = useState<number | undefined>();
  const rollback = useAction(async (version: number) => {
    await must(
      api().POST('/v1/agents/{id}/versions/{version}/rollback', {
        params: { path: { id: agent.id, version }, header: { 'If-Match': `"${agent.version}"` } },
      }),
    );
    setOpen(undefined);
    changed();
  });
  const current = agent as unknown as Record<string, unknown>;
  // The list holds the current configuration too: it is "now", not an earlier version.
  const earlier = versions.data?.items.filter((v) => v.version !== agent.version);
  return (
    <>
      <h2>Activity</h2>
      <ErrorNote message={stats.error} />
      {stats.loading && !stats.data ? <Loading what="stats" /> : null}
      {stats.data ? (
        stats.data.executions === 0 ? (
          <p class="muted">No executions yet: once the agent is active, chats and tasks are counted here.</p>
        ) : (
          <dl class="params">
            <dt>Executions</dt>
            <dd>{stats.data.executions}</dd>
            <dt>Success rate</dt>
            <dd>{Math.round(stats.data.successRate * 100)}%</dd>
            <dt>Average tokens</dt>
            <dd>{Math.round(stats.data.avgTokens)}</dd>
            <dt>Average cost</dt>
            <dd>${stats.data.avgCostUsd.toFixed(4)}</dd>
            <dt>Average latency</dt>
            <dd>{Math.round(stats.data.avgLatencyMs)} ms</dd>
          </dl>
        )
      ) : null}
      <h2>Earlier versions</h2>
      <ErrorNote message={versions.error} />
      <ErrorNote message={rollback.error} />
      {versions.loading && !versions.data ? <Loading what="versions" /> : null}
      {earlier && earlier.length === 0 ? (
        <p class="muted">
          Each change you save keeps the previous configuration here, to compare and roll back.
        </p>
      ) : null}
      <ul class="versions">
        {earlier?.map((version: Version) => {
          const diff = differences(version.config as Record<string, unknown>, current);
          return (
            <li key={version.version}>
              <div class="row">
                <strong>Version {version.version}</strong>
                <span class="muted">
                  {formatDate(version.createdAt)} · {version.reason}
                </span>
                <button
                  type="button"
                  class="secondary"
                  aria-expanded={open === version.version}
                  onClick={() => setOpen(open === version.version ? undefined : version.version)}
                >
                  {open === version.version ? 'Hide changes' : `Compare with now (${diff.length})`}
                </button>
                <button
                  type="button"
                  class="secondary"
                  disabled={rollback.pending}
                  onClick={() => void rollback.run(version.version)}
                >
                  Roll back to version {version.version}
                </button>
              </div>
              {open === version.version ? (
                diff.length === 0 ? (
                  <p class="muted">The same as now.</p>
                ) : (
                  <div class="table-wrap">
                    <table>
                      <caption class="visually-hidden">
                        Version {version.version} compared with version {agent.version}
                      </caption>
                      <thead>
                        <tr>
                          <th scope="col">Field</th>
                          <th scope="col">Version {version.version}</th>
                          <th scope="col">Now</th>
                        </tr>
                      </thead>
                      <tbody>
                        {diff.map((d) => (
                          <tr key={d.field}>
                            <th scope="row">{d.field}</th>
                            <td>
                              <pre>{shown(d.before)}</pre>
                            </td>
                            <td>
                              <pre>{shown(d.after)}</pre>
                            </td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                )
              ) : null}
            </li>
          );
        })}
      </ul>
    </>
  );
}
