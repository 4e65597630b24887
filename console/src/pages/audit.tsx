import { useState } from 'preact/hooks';
import { AUDIT_TYPES } from '../../../lambdas/domain/audit/model';
import { api, must, type ResponseOf } from '../api/client';
import { Empty, ErrorNote, formatDate, Loading, Page, useLoad } from '../ui';

type AuditType = NonNullable<ResponseOf<'/v1/audit', 'get'>['items'][number]['type']>;
// The server's own list, so a new entry type shows up in the filter without a console change.
const TYPES: readonly AuditType[] = AUDIT_TYPES;

/** The append-only audit log, newest first, with its filters. */
export function AuditPage() {
  const [type, setType] = useState<AuditType | ''>('');
  const [agentId, setAgentId] = useState('');
  const [actionId, setActionId] = useState('');
  const [pages, setPages] = useState<string[]>([]);
  const cursor = pages[pages.length - 1];
  const log = useLoad(
    () =>
      must(
        api().GET('/v1/audit', {
          params: {
            query: {
              limit: 25,
              ...(type ? { type } : {}),
              ...(agentId.trim() ? { agentId: agentId.trim() } : {}),
              ...(actionId.trim() ? { actionId: actionId.trim() } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    [type, agentId, actionId, cursor],
  );
  const reset = () => setPages([]);
  return (
    <Page title="Audit log">
      <form class="filters" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <label>
          Type
          <select
            value={type}
            onChange={(e) => {
              reset();
              setType(e.currentTarget.value as AuditType | '');
            }}
          >
            <option value="">Any</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent id
          <input
            value={agentId}
            onChange={(e) => {
              reset();
              setAgentId(e.currentTarget.value);
            }}
          />
        </label>
        <label>
          Action id
          <input
            value={actionId}
            onChange={(e) => {
              reset();
              setActionId(e.currentTarget.value);
            }}
          />
        </label>
      </form>
      <ErrorNote message={log.error} />
      {log.loading && !log.data ? <Loading what="the audit log" /> : null}
      {log.data && log.data.items.length === 0 ? (
        <Empty title="No entries match.">
          <p>Every action your agents propose, every decision and every admin change is recorded here.</p>
        </Empty>
      ) : null}
      {log.data && log.data.items.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col">Outcome</th>
                <th scope="col">Actor</th>
                <th scope="col">Agent</th>
              </tr>
            </thead>
            <tbody>
              {log.data.items.map((entry) => (
                <tr key={entry.id}>
                  <td>{formatDate(entry.at)}</td>
                  <td>{entry.type}</td>
                  <td>{entry.outcome}</td>
                  <td>
                    {entry.actor.kind} {entry.actor.id}
                  </td>
                  <td>{entry.agentId ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <nav class="row pager" aria-label="Pages of the audit log">
        {pages.length > 0 ? (
          <button type="button" class="secondary" onClick={() => setPages(pages.slice(0, -1))}>
            Newer
          </button>
        ) : null}
        {log.data?.nextCursor ? (
          <button
            type="button"
            class="secondary"
            onClick={() => setPages([...pages, log.data?.nextCursor ?? ''])}
          >
            Older
          </button>
        ) : null}
      </nav>
    </Page>
  );
}
