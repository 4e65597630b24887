import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type BodyOf, must } from '../api/client';
import { lazy } from '../lazy';
import { navigate } from '../router';
import { ErrorNote, formatDate, Loading, Page, useAction, useLoad } from '../ui';
import { AgentHistory } from './agent-history';
import { type Agent, LifecycleButtons } from './agents';

// The larger sections are their own chunks, fetched when an existing agent's page is shown.
const AgentChannels = lazy(() => import('./agent-channels').then((m) => m.AgentChannels), 'the channels');
const AgentWebChat = lazy(() => import('./agent-web-chat').then((m) => m.AgentWebChat), 'the web chat');
const AgentPolicy = lazy(() => import('./agent-policy').then((m) => m.AgentPolicy), 'the agent’s rules');

type CreateBody = BodyOf<'/v1/agents', 'post'>;
type ToolName = NonNullable<CreateBody['tools']>[number];
type Provider = CreateBody['model']['provider'];

interface Draft {
  name: string;
  description: string;
  businessType: string;
  provider: Provider;
  modelId: string;
  temperature: string;
  maxTokens: string;
  instructions: string;
  traits: string;
  tone: string;
  profileName: string;
  profilePhone: string;
  profileEmail: string;
  profileWebsite: string;
  /** One FAQ a line: `question | answer`. */
  faqs: string;
  tools: ToolName[];
}

const EMPTY: Draft = {
  name: '',
  description: '',
  businessType: '',
  provider: 'scripted',
  modelId: 'scripted-v1',
  temperature: '0.7',
  maxTokens: '1024',
  instructions: '',
  traits: '',
  tone: '',
  profileName: '',
  profilePhone: '',
  profileEmail: '',
  profileWebsite: '',
  faqs: '',
  tools: ['calculator', 'current_time', 'knowledge_lookup'],
};

function draftOf(agent: Agent): Draft {
  return {
    name: agent.name,
    description: agent.description ?? '',
    businessType: agent.businessType,
    provider: agent.model.provider,
    modelId: agent.model.modelId,
    temperature: String(agent.model.temperature),
    maxTokens: String(agent.model.maxTokens),
    instructions: agent.instructions,
    traits: agent.personality.traits.join(', '),
    tone: agent.personality.tone ?? '',
    profileName: agent.businessProfile?.name ?? '',
    profilePhone: agent.businessProfile?.phone ?? '',
    profileEmail: agent.businessProfile?.email ?? '',
    profileWebsite: agent.businessProfile?.website ?? '',
    faqs: agent.knowledgeBase.faqs.map((faq) => `${faq.question} | ${faq.answer}`).join('\n'),
    tools: [...(agent.tools as ToolName[])],
  };
}

/** The fields the form edits, as the API takes them; what it leaves out stays as it is. */
function bodyOf(draft: Draft, agent: Agent | undefined) {
  const optional = (value: string) => (value.trim() ? value.trim() : undefined);
  const profile = draft.profileName.trim()
    ? {
        ...(agent?.businessProfile ?? {}),
        name: draft.profileName.trim(),
        phone: optional(draft.profilePhone),
        email: optional(draft.profileEmail),
        website: optional(draft.profileWebsite),
        hours: agent?.businessProfile?.hours ?? [],
      }
    : undefined;
  const faqs = draft.faqs
    .split('\n')
    .map((line) => line.split('|').map((part) => part.trim()))
    .filter(([question]) => question)
    .map(([question = '', ...answer]) => ({ question, answer: answer.join(' | ') }));
  return {
    name: draft.name.trim(),
    businessType: draft.businessType.trim(),
    ...(draft.description.trim() ? { description: draft.description.trim() } : {}),
    model: {
      provider: draft.provider,
      modelId: draft.modelId.trim(),
      temperature: Number(draft.temperature),
      maxTokens: Number(draft.maxTokens),
      topP: agent?.model.topP ?? 1,
    },
    instructions: draft.instructions,
    personality: {
      ...(agent?.personality ?? {}),
      traits: draft.traits
        .split(',')
        .map((trait) => trait.trim())
        .filter(Boolean),
      ...(draft.tone.trim() ? { tone: draft.tone.trim() } : {}),
    },
    ...(profile ? { businessProfile: profile } : {}),
    knowledgeBase: {
      products: agent?.knowledgeBase.products ?? [],
      policies: agent?.knowledgeBase.policies ?? [],
      contacts: agent?.knowledgeBase.contacts ?? [],
      faqs,
    },
    tools: draft.tools,
  } satisfies CreateBody;
}

function Field({
  label,
  value,
  set,
  hint,
  ...rest
}: {
  label: string;
  value: string;
  set: (value: string) => void;
  hint?: string;
  required?: boolean;
  type?: string;
  step?: string;
  min?: string;
  max?: string;
}) {
  return (
    <label>
      {label}
      <input
        value={value}
        onInput={(e) => set(e.currentTarget.value)}
        {...(rest as JSX.IntrinsicElements['input'])}
      />
      {hint ? <span class="hint">{hint}</span> : null}
    </label>
  );
}

/** Create an agent (a draft), or edit one: the main fields, its tools, its lifecycle. */
export function AgentEditorPage({ agentId }: { agentId: string | undefined }) {
  const loaded = useLoad(
    async () =>
      agentId ? await must(api().GET('/v1/agents/{id}', { params: { path: { id: agentId } } })) : undefined,
    [agentId],
  );
  const tools = useLoad(() => must(api().GET('/v1/tools')), []);
  const agent = loaded.data;
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [saved, setSaved] = useState<string | undefined>();
  // The form follows the agent when what it edits changed (a save, a rollback, someone else's
  // edit), not when only its version moved (a channel set up below): unsaved edits stay.
  const synced = useRef<string | undefined>(undefined);
  useEffect(() => {
    const next = agent ? draftOf(agent) : EMPTY;
    const key = JSON.stringify(next);
    if (key === synced.current) return;
    synced.current = key;
    setDraft(next);
  }, [agent]);
  const set =
    <K extends keyof Draft>(key: K) =>
    (value: Draft[K]) =>
      setDraft((previous) => ({ ...previous, [key]: value }));

  const save = useAction(async () => {
    setSaved(undefined);
    if (!agent) {
      const created = await must(api().POST('/v1/agents', { body: bodyOf(draft, undefined) }));
      navigate(`/agents/${created.id}`);
      return;
    }
    await must(
      api().PATCH('/v1/agents/{id}', {
        params: { path: { id: agent.id }, header: { 'If-Match': `"${agent.version}"` } },
        body: bodyOf(draft, agent),
      }),
    );
    setSaved('Saved: a new version of the agent.');
    loaded.reload();
  });

  if (agentId && loaded.loading && !agent) return <Loading what="the agent" />;
  if (agentId && !agent) return <ErrorNote message={loaded.error ?? 'The agent was not found.'} />;

  return (
    <Page
      title={agent ? agent.name : 'New agent'}
      actions={
        agent ? (
          <>
            <span class={`badge status-${agent.status}`}>{agent.status}</span>
            <LifecycleButtons agent={agent} changed={loaded.reload} />
            <a class="button secondary" href={`#/agents/${agent.id}/chat`}>
              Chat with {agent.name}
            </a>
            <a class="button secondary" href={`#/provisioning?agent=${agent.id}`}>
              Provision a channel
            </a>
          </>
        ) : null
      }
    >
      {agent ? (
        <p class="muted">
          Version {agent.version}, updated {formatDate(agent.updatedAt)}.{' '}
          {agent.status === 'draft' ? 'A draft answers nobody: start it when it is ready.' : null}
        </p>
      ) : (
        <p class="muted">The agent is created as a draft; start it when it is ready.</p>
      )}
      <form
        class="editor"
        onSubmit={(event) => {
          event.preventDefault();
          void save.run();
        }}
      >
        <fieldset>
          <legend>Basics</legend>
          <Field label="Name" value={draft.name} set={set('name')} required />
          <Field label="Business type" value={draft.businessType} set={set('businessType')} required />
          <Field label="Description" value={draft.description} set={set('description')} />
          <label>
            Instructions
            <textarea
              rows={4}
              value={draft.instructions}
              onInput={(e) => set('instructions')(e.currentTarget.value)}
            />
          </label>
        </fieldset>
        <fieldset>
          <legend>Model</legend>
          <label>
            Provider
            <select
              value={draft.provider}
              onChange={(e) => set('provider')(e.currentTarget.value as Provider)}
            >
              <option value="scripted">scripted (offline stand-in, not an LLM)</option>
              <option value="bedrock">bedrock</option>
              <option value="openai-compatible">openai-compatible</option>
            </select>
          </label>
          <Field label="Model id" value={draft.modelId} set={set('modelId')} required />
          <Field
            label="Temperature"
            type="number"
            step="0.1"
            min="0"
            max="1"
            value={draft.temperature}
            set={set('temperature')}
          />
          <Field label="Max tokens" type="number" min="1" value={draft.maxTokens} set={set('maxTokens')} />
        </fieldset>
        <fieldset>
          <legend>Personality</legend>
          <Field label="Traits" hint="Separated by commas" value={draft.traits} set={set('traits')} />
          <Field label="Tone" value={draft.tone} set={set('tone')} />
        </fieldset>
        <fieldset>
          <legend>Business profile</legend>
          <Field label="Business name" value={draft.profileName} set={set('profileName')} />
          <Field label="Phone" type="tel" value={draft.profilePhone} set={set('profilePhone')} />
          <Field label="Email" type="email" value={draft.profileEmail} set={set('profileEmail')} />
          <Field label="Website" type="url" value={draft.profileWebsite} set={set('profileWebsite')} />
        </fieldset>
        <fieldset>
          <legend>Knowledge base</legend>
          <label>
            Questions and answers
            <textarea rows={4} value={draft.faqs} onInput={(e) => set('faqs')(e.currentTarget.value)} />
            <span class="hint">One a line: question | answer</span>
          </label>
        </fieldset>
        <fieldset>
          <legend>Tools and actions</legend>
          {tools.loading ? <Loading what="tools" /> : null}
          <ErrorNote message={tools.error} />
          <div class="checks">
            {tools.data?.items.map((tool) => (
              <label key={tool.name} class="check">
                <input
                  type="checkbox"
                  checked={draft.tools.includes(tool.name as ToolName)}
                  onChange={(e) => {
                    const name = tool.name as ToolName;
                    set('tools')(
                      e.currentTarget.checked
                        ? [...draft.tools, name]
                        : draft.tools.filter((chosen) => chosen !== name),
                    );
                  }}
                />
                <span>
                  {tool.name}
                  {tool.kind === 'action' ? ` (action, ${tool.defaultLevel ?? 'automatic'})` : ''}
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <ErrorNote message={save.error} />
        {saved ? (
          <p class="ok" role="status">
            {saved}
          </p>
        ) : null}
        <div class="row">
          <button type="submit" disabled={save.pending}>
            {save.pending ? 'Saving…' : agent ? 'Save changes' : 'Create agent'}
          </button>
          <a href="#/agents">Back to agents</a>
        </div>
      </form>
      {agent ? (
        <>
          <AgentChannels agent={agent} changed={loaded.reload} />
          <AgentWebChat agentId={agent.id} />
          <AgentPolicy agent={agent} />
          <AgentHistory agent={agent} changed={loaded.reload} />
        </>
      ) : null}
    </Page>
  );
}
