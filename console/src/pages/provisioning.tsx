import { useEffect, useState } from 'preact/hooks';
import { api, type BodyOf, must, type ResponseOf } from '../api/client';
import { navigate } from '../router';
import { ErrorNote, formatDate, Loading, Page, useAction } from '../ui';

type Provisioning = ResponseOf<'/v1/provisioning/{id}', 'get'>;
type ProvisionBody = BodyOf<'/v1/agents/provision', 'post'>;
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

/** Starts a provisioning: a new agent and the channels it answers on, made in one workflow. */
export function ProvisionPage() {
  const [name, setName] = useState('');
  const [businessType, setBusinessType] = useState('');
  const [voice, setVoice] = useState(true);
  const [email, setEmail] = useState(false);
  const [domain, setDomain] = useState('');
  const start = useAction(async () => {
    const channels: ProvisionBody['channels'] = [];
    if (voice) channels.push({ type: 'voice' } as ProvisionBody['channels'][number]);
    if (email) channels.push({ type: 'email', address: domain.trim() } as ProvisionBody['channels'][number]);
    const body = {
      agent: {
        name: name.trim(),
        businessType: businessType.trim(),
        model: { provider: 'scripted', modelId: 'scripted-v1' },
      },
      channels,
    } as ProvisionBody;
    const started = await must(api().POST('/v1/agents/provision', { body }));
    navigate(`/provisioning/${started.provisioningId}`);
  });
  return (
    <Page title="Provision an agent">
      <p class="muted">
        Creates the agent and sets up each channel one step at a time; if a step fails, what was done is
        undone in reverse and the agent is marked in error.
      </p>
      <form
        class="editor"
        onSubmit={(event) => {
          event.preventDefault();
          void start.run();
        }}
      >
        <label for="prov-name">Agent name</label>
        <input id="prov-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="prov-type">Business type</label>
        <input
          id="prov-type"
          required
          value={businessType}
          onInput={(e) => setBusinessType(e.currentTarget.value)}
        />
        <fieldset>
          <legend>Channels</legend>
          <label>
            <input type="checkbox" checked={voice} onChange={(e) => setVoice(e.currentTarget.checked)} />{' '}
            Voice: a new phone number and its call flow
          </label>
          <label>
            <input type="checkbox" checked={email} onChange={(e) => setEmail(e.currentTarget.checked)} />{' '}
            Email
          </label>
          {email ? (
            <>
              <label for="prov-domain">Email domain</label>
              <input id="prov-domain" value={domain} onInput={(e) => setDomain(e.currentTarget.value)} />
            </>
          ) : null}
        </fieldset>
        <button type="submit" disabled={start.pending}>
          {start.pending ? 'Starting…' : 'Provision'}
        </button>
        <ErrorNote message={start.error} />
      </form>
    </Page>
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
            Agent: <a href={`#/agents/${record.agentId}`}>{record.agentId}</a> · channels{' '}
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
            <a href="#/provisioning">Provision another agent</a>
          </p>
        </>
      ) : null}
    </Page>
  );
}
