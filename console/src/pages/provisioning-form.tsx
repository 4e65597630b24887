import { useState } from 'preact/hooks';
import { CHANNEL_ADDRESSES, CHANNEL_CREDENTIALS } from '../../../lambdas/domain/channels/credential-fields';
import { api, type BodyOf, must } from '../api/client';
import { navigate } from '../router';
import { ErrorNote, useAction } from '../ui';

type ProvisionBody = BodyOf<'/v1/agents/provision', 'post'>;
type ChannelBody = ProvisionBody['channels'][number];
export type ChannelType = ChannelBody['type'];
type CredentialsOf<T extends ChannelType> =
  Extract<ChannelBody, { type: T }> extends { credentials?: infer C } ? NonNullable<C> : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Every channel the API provisions, keyed by the request schema's own union: a channel added to
 * the API fails this file's typecheck until it has a label here.
 */
export const CHANNEL_LABELS: Record<ChannelType, string> = {
  voice: 'Voice: a new phone number and its call flow',
  sms: 'SMS (Twilio)',
  whatsapp: 'WhatsApp (Twilio)',
  telegram: 'Telegram bot',
  slack: 'Slack app',
  messenger: 'Facebook Messenger',
  instagram: 'Instagram messages',
  email: 'Email',
};
const CHANNELS = Object.keys(CHANNEL_LABELS) as ChannelType[];

/**
 * The form's credential fields come from credential-fields.ts (which the API validates with); this
 * checks, at compile time, that they are exactly the fields of the API's request schema per channel.
 */
const FIELDS_MATCH_THE_API: {
  [T in Exclude<ChannelType, 'voice' | 'email'>]: Same<
    keyof (typeof CHANNEL_CREDENTIALS)[T],
    keyof CredentialsOf<T>
  >;
} = { sms: true, whatsapp: true, telegram: true, slack: true, messenger: true, instagram: true };
void FIELDS_MATCH_THE_API;

/** `accountSid` → "Account SID". */
function fieldLabel(field: string): string {
  const words = field.replace(/([A-Z])/g, ' $1').toLowerCase();
  return (words.charAt(0).toUpperCase() + words.slice(1)).replace(/\bsid\b/, 'SID');
}

const credentialFields = (type: ChannelType) =>
  Object.entries(CHANNEL_CREDENTIALS[type] as Record<string, string>);

/**
 * Starts a provisioning: a new agent and the channels it answers on (`POST /v1/agents/provision`),
 * or, for an existing agent, one more channel (`POST /v1/agents/{id}/channels/{type}/provision`).
 * Secrets are typed into password fields, sent once, and cleared when the provisioning starts.
 */
export function ProvisionForm({ agentId, agentName }: { agentId?: string; agentName?: string }) {
  const [name, setName] = useState('');
  const [businessType, setBusinessType] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<ChannelType>>(new Set(agentId ? [] : ['voice']));
  const [values, setValues] = useState<Record<string, string>>({});
  const value = (key: string) => values[key] ?? '';
  const set = (key: string, to: string) => setValues((previous) => ({ ...previous, [key]: to }));

  const channelBody = (type: ChannelType) => {
    if (type === 'voice') {
      return {
        type,
        phoneNumber: {
          countryCode: (value('voice.countryCode') || 'US').trim().toUpperCase(),
          type: (value('voice.numberType') || 'DID') as 'DID' | 'TOLL_FREE',
        },
      };
    }
    const address = value(`${type}.address`).trim();
    const fields = credentialFields(type);
    return {
      type,
      ...(address ? { address } : {}),
      ...(fields.length > 0
        ? { credentials: Object.fromEntries(fields.map(([field]) => [field, value(`${type}.${field}`)])) }
        : {}),
    };
  };

  const start = useAction(async () => {
    const types = CHANNELS.filter((type) => chosen.has(type));
    let provisioningId: string;
    if (agentId) {
      const [type] = types;
      if (!type) throw new Error('Choose the channel to add.');
      const { type: _type, ...body } = channelBody(type);
      provisioningId = (
        await must(
          api().POST('/v1/agents/{id}/channels/{type}/provision', {
            params: { path: { id: agentId, type } },
            body: body as BodyOf<'/v1/agents/{id}/channels/{type}/provision', 'post'>,
          }),
        )
      ).provisioningId;
    } else {
      if (types.length === 0) throw new Error('Choose at least one channel.');
      const body = {
        agent: {
          name: name.trim(),
          businessType: businessType.trim(),
          model: { provider: 'scripted', modelId: 'scripted-v1' },
        },
        channels: types.map(channelBody),
      } as ProvisionBody;
      provisioningId = (await must(api().POST('/v1/agents/provision', { body }))).provisioningId;
    }
    // The secrets were sent once; nothing keeps them.
    setValues({});
    navigate(`/provisioning/${provisioningId}`);
  });

  const toggle = (type: ChannelType, on: boolean) =>
    setChosen((previous) => {
      if (agentId) return new Set(on ? [type] : []);
      const next = new Set(previous);
      if (on) next.add(type);
      else next.delete(type);
      return next;
    });

  return (
    <form
      class="editor"
      aria-label={agentId ? 'Provision a channel' : 'Provision an agent'}
      autoComplete="off"
      onSubmit={(event) => {
        event.preventDefault();
        void start.run();
      }}
    >
      {agentId ? (
        <p>
          Adds one channel to <a href={`#/agents/${agentId}`}>{agentName ?? agentId}</a> through the same
          workflow; a draft agent becomes active when it succeeds.
        </p>
      ) : (
        <>
          <label for="prov-name">Agent name</label>
          <input id="prov-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          <label for="prov-type">Business type</label>
          <input
            id="prov-type"
            required
            value={businessType}
            onInput={(e) => setBusinessType(e.currentTarget.value)}
          />
        </>
      )}
      <fieldset>
        <legend>{agentId ? 'Channel to add' : 'Channels'}</legend>
        {CHANNELS.map((type) => (
          <div key={type}>
            <label class="check">
              <input
                type={agentId ? 'radio' : 'checkbox'}
                name="prov-channel"
                value={type}
                required={agentId ? true : undefined}
                checked={chosen.has(type)}
                onChange={(e) => toggle(type, e.currentTarget.checked)}
              />
              {CHANNEL_LABELS[type]}
            </label>
            {chosen.has(type) ? <ChannelFields type={type} value={value} set={set} /> : null}
          </div>
        ))}
      </fieldset>
      <button type="submit" disabled={start.pending}>
        {start.pending ? 'Starting…' : 'Provision'}
      </button>
      <ErrorNote message={start.error} />
    </form>
  );
}

/** What one channel needs: its address and its provider's credentials, each saying where to find it. */
function ChannelFields({
  type,
  value,
  set,
}: {
  type: ChannelType;
  value: (key: string) => string;
  set: (key: string, to: string) => void;
}) {
  const id = (field: string) => `prov-${type}-${field}`;
  const address = CHANNEL_ADDRESSES[type];
  const short = CHANNEL_LABELS[type].split(/[:(]/)[0]?.trim() ?? type;
  return (
    <fieldset class="channel-fields">
      <legend>{short} details</legend>
      {type === 'voice' ? (
        <>
          <label for={id('countryCode')}>Country of the number</label>
          <input
            id={id('countryCode')}
            aria-describedby={`${id('countryCode')}-hint`}
            maxLength={2}
            placeholder="US"
            value={value('voice.countryCode')}
            onInput={(e) => set('voice.countryCode', e.currentTarget.value)}
          />
          <span class="hint" id={`${id('countryCode')}-hint`}>
            Two letters (ISO 3166), such as US or GB: the platform claims a free number there.
          </span>
          <label for={id('numberType')}>Kind of number</label>
          <select
            id={id('numberType')}
            value={value('voice.numberType') || 'DID'}
            onChange={(e) => set('voice.numberType', e.currentTarget.value)}
          >
            <option value="DID">Local number (DID)</option>
            <option value="TOLL_FREE">Toll-free number</option>
          </select>
        </>
      ) : null}
      {type === 'telegram' ? (
        <p class="hint">The platform points the bot’s webhook at itself; no address is needed.</p>
      ) : null}
      {address ? (
        <>
          <label for={id('address')}>
            {address.label}
            {address.required ? '' : ' (optional)'}
          </label>
          <input
            id={id('address')}
            required={address.required}
            aria-describedby={`${id('address')}-hint`}
            value={value(`${type}.address`)}
            onInput={(e) => set(`${type}.address`, e.currentTarget.value)}
          />
          <span class="hint" id={`${id('address')}-hint`}>
            {address.help}
          </span>
        </>
      ) : null}
      {credentialFields(type).map(([field, whereToFind]) => (
        <div key={field}>
          <label for={id(field)}>{fieldLabel(field)}</label>
          <input
            id={id(field)}
            type="password"
            autoComplete="new-password"
            spellcheck={false}
            required
            aria-describedby={`${id(field)}-hint`}
            value={value(`${type}.${field}`)}
            onInput={(e) => set(`${type}.${field}`, e.currentTarget.value)}
          />
          <span class="hint" id={`${id(field)}-hint`}>
            {whereToFind}. Kept in the business’s secret store; never shown again.
          </span>
        </div>
      ))}
    </fieldset>
  );
}
