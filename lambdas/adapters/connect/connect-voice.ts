import { randomUUID } from 'node:crypto';
import {
  ConnectClient,
  type ConnectClientConfig,
  ConnectServiceException,
  StartOutboundVoiceContactCommand,
} from '@aws-sdk/client-connect';
import * as z from 'zod/mini';
import {
  type CredentialsPort,
  type DeliveryReceipt,
  ProviderError,
  type VoicePort,
} from '../../domain/actions/ports';
import { e164Phone, lazySchema } from '../../domain/shared/zod';
import { awsProviderFailure, awsRetryVerdict } from '../aws-errors';
import { type RetryOptions, withRetries } from '../retry';

const PROVIDER = 'connect';

const verdict = awsRetryVerdict(ConnectServiceException, {
  transient: new Set([
    'ThrottlingException',
    'TooManyRequestsException',
    // The instance's concurrent-calls limit: a call ending frees a slot, so a later attempt can pass.
    'LimitExceededException',
    'InternalServiceException',
    'ServiceUnavailableException',
  ]),
  final: new Set([
    'DestinationNotAllowedException',
    'OutboundContactNotPermittedException',
    'InvalidParameterException',
    'InvalidRequestException',
    'ResourceNotFoundException',
    'ContactFlowNotPublishedException',
    'AccessDeniedException',
    'ServiceQuotaExceededException',
  ]),
});

const tenantVoiceSchema = lazySchema(() =>
  z.object({ sourcePhoneNumber: e164Phone(), contactFlowId: z.optional(z.string().check(z.minLength(1))) }),
);

export interface ConnectVoiceOptions {
  /** The one shared Connect instance (id or ARN). */
  readonly instanceId: string;
  /** The flow that runs the call when the tenant's `connect` secret names none. */
  readonly contactFlowId?: string;
  /** The caller id when the tenant has no number of its own. */
  readonly sourcePhoneNumber?: string;
  readonly credentials: CredentialsPort;
  readonly retry?: RetryOptions;
}

/**
 * Outbound calls through the shared Amazon Connect instance's `StartOutboundVoiceContact`; the
 * contact flow (a Lex bot routed to the tenant's agent) carries the conversation, told who is
 * calling by the contact attributes. Build the client with `maxAttempts: 1`: attempts are counted
 * here.
 *
 * Connect's API rate is small and per account, shared by every tenant (about 2 requests per
 * second, burst 5, for StartOutboundVoiceContact), which is why the backoff starts at 500 ms and
 * callers should not fan calls out in parallel.
 */
export class ConnectVoice implements VoicePort {
  private readonly instanceId: string;
  private readonly defaultContactFlowId: string | undefined;
  private readonly defaultSourcePhoneNumber: string | undefined;
  private readonly credentials: CredentialsPort;
  private readonly retry: RetryOptions;

  constructor(
    private readonly client: ConnectClient,
    options: ConnectVoiceOptions,
  ) {
    this.instanceId = options.instanceId;
    this.defaultContactFlowId = options.contactFlowId || undefined;
    this.defaultSourcePhoneNumber = options.sourcePhoneNumber || undefined;
    this.credentials = options.credentials;
    this.retry = { baseDelayMs: 500, ...options.retry };
  }

  async placeCall(tenantId: string, call: Parameters<VoicePort['placeCall']>[1]): Promise<DeliveryReceipt> {
    const { sourcePhoneNumber, contactFlowId } = await this.settingsOf(tenantId, call.from);
    const command = new StartOutboundVoiceContactCommand({
      InstanceId: this.instanceId,
      ContactFlowId: contactFlowId,
      DestinationPhoneNumber: call.to,
      SourcePhoneNumber: sourcePhoneNumber,
      // Read by the voice Lambda's `start-call` (lambdas/domain/voice/start-call.ts): the call was
      // placed (and paid for) by the agent's `place_call`, and the agent opens with its purpose.
      // Callers cannot set contact attributes, so an inbound call never carries these.
      Attributes: { origin: 'place_call', tenantId, agentId: call.agentId, purpose: call.purpose },
      // One token for all the attempts of this call, so a retry after a lost response returns the
      // contact already started instead of ringing the customer twice. The port carries no key of
      // the caller's, so a retried *action* is not deduplicated (tokens last 7 days, and the same
      // tenant, agent, number and purpose can be a legitimate second call).
      ClientToken: randomUUID(),
    });
    try {
      const output = await withRetries(() => this.client.send(command), verdict, this.retry);
      return {
        provider: PROVIDER,
        providerId: output.ContactId ?? output.$metadata.requestId ?? 'unknown',
        status: 'initiated',
      };
    } catch (error) {
      throw awsProviderFailure(PROVIDER, error);
    }
  }

  private async settingsOf(
    tenantId: string,
    agentNumber?: string,
  ): Promise<{ sourcePhoneNumber: string; contactFlowId: string }> {
    const stored = await this.credentials.get(tenantId, PROVIDER);
    let tenant: { sourcePhoneNumber: string; contactFlowId?: string | undefined } | undefined;
    if (stored) {
      const parsed = tenantVoiceSchema().safeParse(stored);
      if (!parsed.success) {
        const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))].join(', ');
        throw new ProviderError(PROVIDER, false, `this tenant's Connect settings are invalid (${fields})`);
      }
      tenant = parsed.data;
    }
    const sourcePhoneNumber = agentNumber ?? tenant?.sourcePhoneNumber ?? this.defaultSourcePhoneNumber;
    const contactFlowId = tenant?.contactFlowId ?? this.defaultContactFlowId;
    if (!sourcePhoneNumber) {
      throw new ProviderError(PROVIDER, false, 'no caller id: this tenant has no Connect phone number');
    }
    if (!contactFlowId) {
      throw new ProviderError(PROVIDER, false, 'no contact flow configured for outbound calls');
    }
    return { sourcePhoneNumber, contactFlowId };
  }
}

/**
 * The client, built here rather than by whoever requires this module: a `require` of the SDK
 * package itself would bundle every Connect command, while this named import keeps one.
 */
export const connectClient = (config: ConnectClientConfig): ConnectClient => new ConnectClient(config);
