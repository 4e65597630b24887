import { useRef, useState } from 'preact/hooks';
import { CHANNEL_KINDS } from '../../../lambdas/domain/channels/kinds';
import { api, apiOrigin, changedMeanwhile, must, type ResponseOf } from '../api/client';
import { Copyable } from '../copy';
import { Empty, ErrorNote, formatDate, Loading, messageOf, useLoad } from '../ui';
import type { Agent } from './agents';

type Channel = ResponseOf<'/v1/agents/{id}/channels', 'get'>['items'][number];
type ChannelType = Channel['type'];

/** The server's own table (`lambdas/domain/channels/kinds.ts`): its types, fields and addresses. */
const TYPES = Object.keys(CHANNEL_KINDS) as ChannelType[];

const TYPE_NAMES: Record<ChannelType, string> = {
  sms: 'SMS (Twilio)',
  whatsapp: 'WhatsApp (Twilio)',
  slack: 'Slack',
  telegram: 'Telegram',
  messenger: 'Messenger',
  instagram: 'Instagram',
  email: 'Email',
  voice: 'Voice (phone calls)',
};

const ADDRESS_LABELS: Partial<Record<ChannelType, string>> = {
  sms: 'Phone number',
  whatsapp: 'WhatsApp number',
  slack: 'Slack team id',
  messenger: 'Facebook page id',
  instagram: 'Instagram account id',
  email: 'Mailbox',
  voice: 'Phone number',
};

/** `accountSid` → "Account SID": the provider's own words where they differ from the split. */
function fieldLabel(field: string): string {
  const words = field.replace(/([A-Z])/g, ' $1').toLowerCase();
  return (words.charAt(0).toUpperCase() + words.slice(1)).replace(/\bsid\b/, 'SID');
}

const STALE =
  'The agent changed meanwhile (someone else saved it): the page now shows it as it is. Check, then send again.';

interface Form {
  type: ChannelType;
  address: string;
  enabled: boolean;
  credentials: Record<string, string>;
  /** Changing a channel that exists: credentials left blank stay as they are. */
  existing: boolean;
}

const blank = (type: ChannelType, channels: readonly Channel[]): Form => {
  const existing = channels.find((channel) => channel.type === type);
  return {
    type,
    address: existing && CHANNEL_KINDS[type].address ? existing.address : '',
    enabled: existing?.enabled ?? true,
    credentials: {},
    existing: existing !== undefined,
  };
};

/**
 * The agent's channels (`/v1/agents/{id}/channels`): what is set up, the webhook URL to give each
 * provider, set up / change / switch off / remove. Credentials go in and never come back: the
 * list names the fields that are set. Every change sends the agent's version (If-Match).
 */
export function AgentChannels({ agent, changed }: { agent: Agent; changed: () => void }) {
  const listed = useLoad(
    () => must(api().GET('/v1/agents/{id}/channels', { params: { path: { id: agent.id } } })),
    [agent.id, agent.version],
  );
  const channels = listed.data?.items ?? [];
  const [form, setForm] = useState<Form | undefined>();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [removing, setRemoving] = useState<Channel | undefined>();
  const confirm = useRef<HTMLDialogElement>(null);
  const ifMatch = { 'If-Match': `"${agent.version}"` };

  /** Runs one change; a stale version reloads the agent and says so, other errors in the API's words. */
  const attempt = async (change: () => Promise<string>) => {
    setPending(true);
    setError(undefined);
    setDone(undefined);
    try {
      setDone(await change());
      changed();
      return true;
    } catch (caught) {
      setError(changedMeanwhile(caught) ? STALE : messageOf(caught));
      if (changedMeanwhile(caught)) changed();
      return false;
    } finally {
      setPending(false);
    }
  };

  const save = (draft: Form) =>
    attempt(async () => {
      const kind = CHANNEL_KINDS[draft.type];
      const given = Object.fromEntries(Object.entries(draft.credentials).filter(([, value]) => value !== ''));
      const sendCredentials =
        kind.credentials.length > 0 && (!draft.existing || Object.keys(given).length > 0);
      const saved = await must(
        api().PUT('/v1/agents/{id}/channels/{type}', {
          params: { path: { id: agent.id, type: draft.type }, header: ifMatch },
          body: {
            ...(kind.address ? { address: draft.address.trim() } : {}),
            enabled: draft.enabled,
            ...(sendCredentials ? { credentials: given } : {}),
          },
        }),
      );
      setForm(undefined);
      return `${TYPE_NAMES[saved.type]} ${draft.existing ? 'changed' : 'set up'}${
        saved.webhookPath ? `: give the provider the webhook URL ${apiOrigin()}${saved.webhookPath}` : ''
      }.`;
    });

  const toggle = (channel: Channel) =>
    attempt(async () => {
      await must(
        api().PUT('/v1/agents/{id}/channels/{type}', {
          params: { path: { id: agent.id, type: channel.type }, header: ifMatch },
          body: { enabled: !channel.enabled },
        }),
      );
      return `${TYPE_NAMES[channel.type]} switched ${channel.enabled ? 'off' : 'on'}.`;
    });

  const remove = async (channel: Channel) => {
    const removed = await attempt(async () => {
      await must(
        api().DELETE('/v1/agents/{id}/channels/{type}', {
          params: { path: { id: agent.id, type: channel.type }, header: ifMatch },
        }),
      );
      return `${TYPE_NAMES[channel.type]} removed: its address is free and its credentials deleted.`;
    });
    // A refusal stays in the dialog, in the API's words; done, the list says so.
    if (removed) confirm.current?.close();
  };

  return (
    <section aria-labelledby="channels-title">
      <h2 id="channels-title">Channels</h2>
      <ErrorNote message={listed.error} />
      {listed.loading && !listed.data ? <Loading what="channels" /> : null}
      {listed.data && channels.length === 0 ? (
        <Empty title="No channels yet.">
          <p>Set one up below so customers reach the agent by SMS, WhatsApp, Telegram, email or phone.</p>
        </Empty>
      ) : null}
      {channels.length > 0 ? (
        <ul class="cards" aria-label="Channels of this agent">
          {channels.map((channel) => (
            <li key={channel.type} class="card">
              <div class="row">
                <strong>{TYPE_NAMES[channel.type]}</strong>
                <span class={`badge ${channel.enabled ? 'status-active' : 'status-paused'}`}>
                  {channel.enabled ? 'on' : 'off'}
                </span>
              </div>
              <dl class="params">
                <dt>Address</dt>
                <dd>{channel.address}</dd>
                <dt>Credentials</dt>
                <dd>{channel.credentialsSet.length ? `${channel.credentialsSet.join(', ')} set` : 'none'}</dd>
                <dt>Changed</dt>
                <dd>{formatDate(channel.updatedAt)}</dd>
              </dl>
              {channel.webhookPath ? (
                <>
                  <p class="hint">Webhook URL to give the provider</p>
                  <Copyable
                    text={`${apiOrigin()}${channel.webhookPath}`}
                    label={`Copy the ${TYPE_NAMES[channel.type]} webhook URL`}
                  />
                </>
              ) : null}
              <div class="row">
                <button
                  type="button"
                  class="secondary"
                  onClick={() => setForm(blank(channel.type, channels))}
                  aria-label={`Change ${TYPE_NAMES[channel.type]}`}
                >
                  Change
                </button>
                <button
                  type="button"
                  class="secondary"
                  disabled={pending}
                  onClick={() => void toggle(channel)}
                >
                  Switch {channel.enabled ? 'off' : 'on'}
                  <span class="visually-hidden"> {TYPE_NAMES[channel.type]}</span>
                </button>
                <button
                  type="button"
                  class="secondary danger"
                  onClick={() => {
                    setRemoving(channel);
                    confirm.current?.showModal();
                  }}
                >
                  Remove {TYPE_NAMES[channel.type]}…
                </button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      {done ? (
        <p class="ok" role="status">
          {done}
        </p>
      ) : null}
      {form || removing ? null : <ErrorNote message={error} />}
      {form ? (
        <ChannelForm
          form={form}
          setForm={setForm}
          channels={channels}
          pending={pending}
          error={error}
          submit={() => void save(form)}
        />
      ) : (
        <button
          type="button"
          onClick={() =>
            setForm(blank(TYPES.find((t) => !channels.some((c) => c.type === t)) ?? 'sms', channels))
          }
        >
          Set up a channel
        </button>
      )}
      <dialog ref={confirm} aria-labelledby="remove-channel-title" onClose={() => setRemoving(undefined)}>
        <h2 id="remove-channel-title">Remove {removing ? TYPE_NAMES[removing.type] : 'the channel'}?</h2>
        <p>
          Customers can no longer reach the agent at {removing?.address}; its credentials are deleted and the
          address is free for another agent.
        </p>
        {removing ? <ErrorNote message={error} /> : null}
        <div class="row">
          <button
            type="button"
            class="danger"
            disabled={pending}
            onClick={() => removing && void remove(removing)}
          >
            Yes, remove it
          </button>
          <button type="button" class="secondary" onClick={() => confirm.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}

function ChannelForm({
  form,
  setForm,
  channels,
  pending,
  error,
  submit,
}: {
  form: Form;
  setForm: (form: Form | undefined) => void;
  channels: readonly Channel[];
  pending: boolean;
  error: string | undefined;
  submit: () => void;
}) {
  const kind = CHANNEL_KINDS[form.type];
  return (
    <form
      class="card editor"
      aria-label="Channel set-up"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <label>
        Channel
        <select
          value={form.type}
          onChange={(e) => setForm(blank(e.currentTarget.value as ChannelType, channels))}
        >
          {TYPES.map((type) => (
            <option key={type} value={type}>
              {TYPE_NAMES[type]}
              {channels.some((c) => c.type === type) ? ' (set up: change it)' : ''}
            </option>
          ))}
        </select>
      </label>
      {kind.address ? (
        <label>
          {ADDRESS_LABELS[form.type] ?? 'Address'}
          <input
            value={form.address}
            required={!form.existing}
            onInput={(e) => setForm({ ...form, address: e.currentTarget.value })}
          />
          <span class="hint">Must be {kind.address.expected}.</span>
        </label>
      ) : form.type === 'telegram' ? (
        <p class="hint">The platform makes the address and points the bot at its webhook for you.</p>
      ) : null}
      {kind.credentials.map((field) => (
        <label key={field}>
          {fieldLabel(field)}
          <input
            type="password"
            autoComplete="new-password"
            value={form.credentials[field] ?? ''}
            required={!form.existing}
            onInput={(e) =>
              setForm({ ...form, credentials: { ...form.credentials, [field]: e.currentTarget.value } })
            }
          />
        </label>
      ))}
      {form.existing && kind.credentials.length > 0 ? (
        <p class="hint">
          Credentials are never shown again: leave them blank to keep them, or give them all.
        </p>
      ) : null}
      <label class="check">
        <input
          type="checkbox"
          checked={form.enabled}
          onChange={(e) => setForm({ ...form, enabled: e.currentTarget.checked })}
        />
        <span>On: the agent answers on this channel</span>
      </label>
      <ErrorNote message={error} />
      <div class="row">
        <button type="submit" disabled={pending}>
          {pending ? 'Saving…' : form.existing ? 'Save channel' : 'Set up channel'}
        </button>
        <button type="button" class="secondary" onClick={() => setForm(undefined)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
