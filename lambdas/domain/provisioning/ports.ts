import type { AgentRepository } from '../agents/ports';
import type { ChannelSettingsDeps } from '../channels/configure';
import type { Page } from '../shared/pagination';
import type { LocationRepository } from '../tenants/ports';
import type { ProvisioningListFilter, ProvisioningRecord } from './model';

/**
 * What provisioning asks of the providers. Every method is idempotent or tells the workflow what it
 * would need to be (a `clientToken`); each failure is a `ProviderError` (domain/actions/ports.ts)
 * whose `retryable` says whether the workflow's Retry may help, and `ThrottledError` for a
 * provider's rate limit (Connect allows about 2 calls a second), which the ASL retries with backoff.
 */

/** Amazon Connect: a number claimed for the agent, its contact flow, and the two associated. */
export interface VoiceProvisioner {
  /** Searches an available number and claims it; `clientToken` makes a retried claim the same claim. */
  claimNumber(request: {
    readonly countryCode: string;
    readonly type: 'DID' | 'TOLL_FREE';
    readonly clientToken: string;
    readonly description: string;
  }): Promise<{ readonly phoneNumber: string; readonly phoneNumberId: string }>;
  /** Idempotent: a number already released is fine. */
  releaseNumber(phoneNumberId: string): Promise<void>;
  createFlow(request: {
    readonly name: string;
    readonly content: string;
    readonly description: string;
  }): Promise<{
    readonly flowId: string;
    readonly flowArn: string;
  }>;
  /** Idempotent: a flow already deleted is fine. */
  deleteFlow(flowId: string): Promise<void>;
  associate(phoneNumberId: string, flowId: string): Promise<void>;
  /** Idempotent. */
  disassociate(phoneNumberId: string): Promise<void>;
}

export interface TwilioNumberWebhooks {
  readonly inboundUrl: string;
  readonly statusUrl: string;
}

/** Twilio: the number (SMS) or WhatsApp sender the tenant owns, pointed at the platform's webhooks. */
export interface TwilioProvisioner {
  /** Checks the credentials by finding `address` in the account; its current webhooks (to restore). */
  findNumber(
    credentials: Readonly<Record<string, string>>,
    channel: 'sms' | 'whatsapp',
    address: string,
  ): Promise<{ readonly sid: string; readonly webhooks: Partial<TwilioNumberWebhooks> }>;
  setWebhooks(
    credentials: Readonly<Record<string, string>>,
    channel: 'sms' | 'whatsapp',
    sid: string,
    webhooks: Partial<TwilioNumberWebhooks>,
  ): Promise<void>;
}

export interface SlackProvisioner {
  /** `auth.test` with the bot token: the workspace (team id) it belongs to. */
  authTest(botToken: string): Promise<{ readonly teamId: string; readonly botUserId?: string }>;
}

/** Meta Graph: the page (Messenger) or Instagram account subscribed to the app's webhook. */
export interface MetaProvisioner {
  subscribe(channel: 'messenger' | 'instagram', accountId: string, pageAccessToken: string): Promise<void>;
  unsubscribe(channel: 'messenger' | 'instagram', accountId: string, pageAccessToken: string): Promise<void>;
}

/** SES: the mailbox's identity (created when missing) and the receipt rule that takes its mail in. */
export interface EmailProvisioner {
  ensureIdentity(address: string): Promise<{
    readonly identity: string;
    readonly created: boolean;
    readonly verified: boolean;
    readonly receiptRule: string | undefined;
  }>;
  deleteIdentity(identity: string): Promise<void>;
}

export interface ProvisioningProviders {
  readonly voice: VoiceProvisioner;
  readonly twilio: TwilioProvisioner;
  readonly slack: SlackProvisioner;
  readonly meta: MetaProvisioner;
  readonly email: EmailProvisioner;
}

export interface ProvisioningRepository {
  /**
   * Stores a new record; with `idempotencyKey`, together with the key (per tenant). When the key
   * exists: the record it names (the caller compares request hashes).
   */
  create(
    record: ProvisioningRecord,
    idempotencyKey?: string,
  ): Promise<{ created: true } | { existing: ProvisioningRecord }>;
  get(tenantId: string, provisioningId: string): Promise<ProvisioningRecord | undefined>;
  /** Writes `next` if the stored version is still `next.version - 1` (ConflictError otherwise). */
  save(next: ProvisioningRecord): Promise<void>;
  /**
   * The tenant's provisionings newest first, a page at a time (one agent's, one status); the
   * cursor is bound to the tenant and the filters.
   */
  list(tenantId: string, filter: ProvisioningListFilter): Promise<Page<ProvisioningRecord>>;
  /** The agent's provisionings, oldest first. */
  listForAgent(tenantId: string, agentId: string): Promise<ProvisioningRecord[]>;
}

/** The agent's context shared by its channels: who it is reachable as, initialised once provisioned. */
export interface AgentContextStore {
  put(
    tenantId: string,
    agentId: string,
    context: { readonly channels: Readonly<Record<string, string>>; readonly initialisedAt: string },
  ): Promise<void>;
  delete(tenantId: string, agentId: string): Promise<void>;
}

export interface ProvisioningWorkflowPort {
  /** Starts the workflow named after the provisioning: a second start of the same id starts nothing. */
  start(input: {
    readonly tenantId: string;
    readonly provisioningId: string;
  }): Promise<{ readonly executionId: string }>;
}

/** What the flow template needs besides the agent (deploy-time ARNs, from the environment). */
export interface VoiceFlowSettings {
  /** The voice Lambda (`start-call`, `await-answer`). */
  readonly voiceLambdaArn: string;
  readonly botAliasArn: string;
  /** Where callers who ask for a person go; without one they stay with the agent. */
  readonly humanQueueArn?: string;
}

export interface ProvisioningDeps {
  readonly agents: AgentRepository;
  readonly locations: LocationRepository;
  readonly records: ProvisioningRepository;
  readonly channels: ChannelSettingsDeps;
  readonly providers: ProvisioningProviders;
  readonly context: AgentContextStore;
  /** The environment's public base URL (webhook addresses); undefined: channels that need one fail. */
  readonly publicBaseUrl: string | undefined;
  readonly voiceFlow: VoiceFlowSettings | undefined;
  /** Local mode and tests only: honour a request's `simulate` failures. */
  readonly allowSimulatedFailures: boolean;
  readonly now?: () => Date;
  readonly log?: { warn(message: string, extra: Record<string, unknown>): void };
}

/** A provider's rate limit: the ASL retries `Provisioning.THROTTLED` with backoff. */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';
}
