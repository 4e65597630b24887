import { ProviderError } from '../lambdas/domain/actions/ports';
import {
  type ProvisioningProviders,
  ThrottledError,
  type TwilioNumberWebhooks,
} from '../lambdas/domain/provisioning/ports';

/**
 * Local mode's stand-ins for what provisioning asks of Amazon Connect, Twilio, Slack, Meta and SES.
 * They keep the state a provider would (a pool of test numbers, flows, associations, each
 * number's webhooks, subscriptions, identities) and record every call, so tests and a curious user
 * can see exactly what was asked (GET /v1/dev/provisioning/calls).
 *
 * Faults: `failNext(operation, { times, kind })` makes the next calls of one operation fail —
 * `throttled` (retried by the workflow with backoff), `transient` (a provider 5xx, retried) or
 * `final` (a refusal, which fails the provisioning and starts its compensation).
 */

export interface ProviderCall {
  readonly provider: 'connect' | 'twilio' | 'slack' | 'meta' | 'ses';
  readonly operation: string;
  readonly args: Readonly<Record<string, string>>;
  readonly at: string;
}

export type FaultKind = 'throttled' | 'transient' | 'final';

/** Numbers the local Connect hands out: the 555-01xx range is reserved for fiction. */
export const LOCAL_NUMBER_POOL = Array.from(
  { length: 50 },
  (_, i) => `+1555010${String(i).padStart(4, '0')}`,
);

export class LocalProvisioningProviders {
  readonly calls: ProviderCall[] = [];
  private readonly faults = new Map<string, { times: number; kind: FaultKind }[]>();
  /** phoneNumberId → number; a released one goes back to the pool. */
  readonly claimed = new Map<string, { phoneNumber: string; clientToken: string }>();
  readonly flows = new Map<string, { name: string; content: string }>();
  readonly associations = new Map<string, string>();
  /** Twilio numbers and WhatsApp senders of the (fictional) accounts: address → webhooks. */
  readonly twilioNumbers = new Map<string, Partial<TwilioNumberWebhooks>>();
  readonly subscriptions = new Set<string>();
  readonly identities = new Set<string>(['example.com']);
  private sequence = 0;

  private readonly receivingDomains: readonly string[];
  private readonly pool: readonly string[];

  constructor(
    options: { readonly receivingDomains?: readonly string[]; readonly numbers?: readonly string[] } = {},
  ) {
    this.receivingDomains = options.receivingDomains ?? [];
    this.pool = options.numbers ?? LOCAL_NUMBER_POOL;
  }

  failNext(operation: string, fault: { times?: number; kind?: FaultKind } = {}): void {
    const list = this.faults.get(operation) ?? [];
    list.push({ times: fault.times ?? 1, kind: fault.kind ?? 'final' });
    this.faults.set(operation, list);
  }

  reset(): void {
    this.calls.length = 0;
    this.faults.clear();
  }

  private record(provider: ProviderCall['provider'], operation: string, args: Record<string, string>): void {
    this.calls.push({ provider, operation, args, at: new Date().toISOString() });
    const queued = this.faults.get(operation)?.[0];
    if (!queued) return;
    queued.times -= 1;
    if (queued.times <= 0) this.faults.get(operation)?.shift();
    if (queued.kind === 'throttled')
      throw new ThrottledError(`${provider} ${operation}: ThrottlingException (injected)`);
    throw new ProviderError(
      provider,
      queued.kind === 'transient',
      `${operation}: injected ${queued.kind} failure`,
    );
  }

  private nextId(prefix: string): string {
    this.sequence += 1;
    return `${prefix}-${String(this.sequence).padStart(6, '0')}`;
  }

  readonly providers: ProvisioningProviders = {
    voice: {
      claimNumber: async (request) => {
        this.record('connect', 'ClaimPhoneNumber', {
          countryCode: request.countryCode,
          type: request.type,
          clientToken: request.clientToken,
        });
        for (const [id, claim] of this.claimed) {
          if (claim.clientToken === request.clientToken)
            return { phoneNumber: claim.phoneNumber, phoneNumberId: id };
        }
        const taken = new Set([...this.claimed.values()].map((c) => c.phoneNumber));
        const phoneNumber = this.pool.find((n) => !taken.has(n));
        if (!phoneNumber) throw new ProviderError('connect', false, 'the local number pool is used up');
        const phoneNumberId = this.nextId('pn');
        this.claimed.set(phoneNumberId, { phoneNumber, clientToken: request.clientToken });
        return { phoneNumber, phoneNumberId };
      },
      releaseNumber: async (phoneNumberId) => {
        this.record('connect', 'ReleasePhoneNumber', { phoneNumberId });
        this.claimed.delete(phoneNumberId);
        this.associations.delete(phoneNumberId);
      },
      createFlow: async (request) => {
        this.record('connect', 'CreateContactFlow', { name: request.name });
        JSON.parse(request.content);
        const flowId = this.nextId('flow');
        this.flows.set(flowId, { name: request.name, content: request.content });
        return {
          flowId,
          flowArn: `arn:aws:connect:us-east-1:000000000000:instance/local/contact-flow/${flowId}`,
        };
      },
      deleteFlow: async (flowId) => {
        this.record('connect', 'DeleteContactFlow', { flowId });
        this.flows.delete(flowId);
      },
      associate: async (phoneNumberId, flowId) => {
        this.record('connect', 'AssociatePhoneNumberContactFlow', { phoneNumberId, flowId });
        if (!this.claimed.has(phoneNumberId) || !this.flows.has(flowId)) {
          throw new ProviderError('connect', false, 'ResourceNotFoundException: no such number or flow');
        }
        this.associations.set(phoneNumberId, flowId);
      },
      disassociate: async (phoneNumberId) => {
        this.record('connect', 'DisassociatePhoneNumberContactFlow', { phoneNumberId });
        this.associations.delete(phoneNumberId);
      },
    },
    twilio: {
      findNumber: async (credentials, channel, address) => {
        this.record('twilio', channel === 'sms' ? 'IncomingPhoneNumbers.list' : 'ChannelsSenders.fetch', {
          address,
          accountSid: credentials.accountSid ?? '',
        });
        if (!credentials.accountSid?.startsWith('AC')) {
          throw new ProviderError(
            'twilio',
            false,
            'HTTP 401 (20003): the credentials are not a Twilio account',
          );
        }
        if (!this.twilioNumbers.has(`${channel}:${address}`)) {
          // Any number "belongs" to a local account, pointing at a previous app until provisioned.
          this.twilioNumbers.set(`${channel}:${address}`, {
            inboundUrl: `https://previous-app.example/${channel}`,
            statusUrl: 'https://previous-app.example/status',
          });
        }
        return {
          sid: `PN${channel}${address.replace(/\D/g, '')}`,
          webhooks: { ...this.twilioNumbers.get(`${channel}:${address}`) },
        };
      },
      setWebhooks: async (_credentials, channel, sid, webhooks) => {
        this.record('twilio', channel === 'sms' ? 'IncomingPhoneNumbers.update' : 'ChannelsSenders.update', {
          sid,
          inboundUrl: webhooks.inboundUrl ?? '',
          statusUrl: webhooks.statusUrl ?? '',
        });
        const address = `+${sid.replace(/^PN(sms|whatsapp)/, '')}`;
        this.twilioNumbers.set(`${channel}:${address}`, { ...webhooks });
      },
    },
    slack: {
      authTest: async (botToken) => {
        this.record('slack', 'auth.test', {});
        if (!botToken.startsWith('xoxb-'))
          throw new ProviderError('slack', false, 'auth.test refused the bot token (invalid_auth)');
        // The workspace a local bot token names: xoxb-<TEAM>-… (T0LOCAL otherwise).
        const team = /^xoxb-(T[A-Z0-9]{2,20})-/.exec(botToken)?.[1] ?? 'T0LOCAL';
        return { teamId: team, botUserId: 'U0LOCALBOT' };
      },
    },
    meta: {
      subscribe: async (channel, accountId) => {
        this.record('meta', 'subscribed_apps.create', { channel, accountId });
        this.subscriptions.add(`${channel}:${accountId}`);
      },
      unsubscribe: async (channel, accountId) => {
        this.record('meta', 'subscribed_apps.delete', { channel, accountId });
        this.subscriptions.delete(`${channel}:${accountId}`);
      },
    },
    email: {
      ensureIdentity: async (address) => {
        const domain = address.slice(address.lastIndexOf('@') + 1);
        this.record('ses', 'GetEmailIdentity', { identity: domain });
        let created = false;
        if (!this.identities.has(domain)) {
          this.record('ses', 'CreateEmailIdentity', { identity: domain });
          this.identities.add(domain);
          created = true;
        }
        // Local mode's email intake takes any domain unless a list is given.
        const takes = this.receivingDomains.length === 0 || this.receivingDomains.includes(domain);
        return {
          identity: domain,
          created,
          verified: !created,
          receiptRule: takes ? 'local-inbound' : undefined,
        };
      },
      deleteIdentity: async (identity) => {
        this.record('ses', 'DeleteEmailIdentity', { identity });
        this.identities.delete(identity);
      },
    },
  };
}

let shared: LocalProvisioningProviders | undefined;

export function localProvisioningProviders(): LocalProvisioningProviders {
  shared ??= new LocalProvisioningProviders();
  return shared;
}
