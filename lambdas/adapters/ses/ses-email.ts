import {
  SESv2Client,
  type SESv2ClientConfig,
  SESv2ServiceException,
  SendEmailCommand,
} from '@aws-sdk/client-sesv2';
import * as z from 'zod/mini';
import {
  type CredentialsPort,
  type DeliveryReceipt,
  type EmailPort,
  ProviderError,
} from '../../domain/actions/ports';
import { lazySchema } from '../../domain/shared/zod';
import { awsProviderFailure, awsRetryVerdict } from '../aws-errors';
import type { EmailReply } from '../email/email-reply';
import { type RetryOptions, withRetries } from '../retry';

const PROVIDER = 'ses';

const verdict = awsRetryVerdict(SESv2ServiceException, {
  /**
   * Known by name rather than class: SESv2 models `TooManyRequestsException` but a throttle can
   * also come back as an unmodelled `ThrottlingException` (and from the shared AWS front end).
   */
  transient: new Set([
    'ThrottlingException',
    'TooManyRequestsException',
    'InternalServiceErrorException',
    'ServiceUnavailable',
    'ServiceUnavailableException',
  ]),
  /**
   * Refusals another attempt cannot change. `LimitExceededException` is here on purpose: it is the
   * account's daily quota or a resource limit, which backing off for seconds does not lift.
   */
  final: new Set([
    'MessageRejected',
    'MailFromDomainNotVerifiedException',
    'AccountSuspendedException',
    'SendingPausedException',
    'BadRequestException',
    'NotFoundException',
    'LimitExceededException',
    'AccessDeniedException',
  ]),
});

const tenantSenderSchema = lazySchema(() =>
  z.object({ fromAddress: z.string().check(z.minLength(3), z.maxLength(320), z.includes('@')) }),
);

export interface SesEmailOptions {
  readonly credentials: CredentialsPort;
  /** The platform's verified sender, for tenants that have not set up their own (`ses` secret). */
  readonly defaultFromAddress?: string;
  /** Sent with every email when set (bounce and complaint events, dedicated IPs). */
  readonly configurationSetName?: string;
  readonly retry?: RetryOptions;
}

/**
 * Email through SES v2 `SendEmail`, plain text in UTF-8. Build the client with `maxAttempts: 1`:
 * attempts are counted here (`withRetries`), the SDK's own retries would multiply them. SES has
 * no idempotency token, so a retry after a lost response can deliver twice; attempts are bounded.
 */
export class SesEmail implements EmailPort {
  private readonly credentials: CredentialsPort;
  private readonly defaultFromAddress: string | undefined;
  private readonly configurationSetName: string | undefined;
  private readonly retry: RetryOptions;

  constructor(
    private readonly client: SESv2Client,
    options: SesEmailOptions,
  ) {
    this.credentials = options.credentials;
    this.defaultFromAddress = options.defaultFromAddress || undefined;
    this.configurationSetName = options.configurationSetName || undefined;
    this.retry = options.retry ?? {};
  }

  async send(
    tenantId: string,
    email: { readonly to: string; readonly subject: string; readonly body: string },
  ): Promise<DeliveryReceipt> {
    const from = await this.fromAddressOf(tenantId);
    return this.sendSimple(tenantId, { from, to: email.to, subject: email.subject, text: email.body });
  }

  /**
   * An agent's reply on its email channel: from the agent's mailbox (which must be a verified SES
   * identity: the receiving domain), threaded with `In-Reply-To` / `References` so that the
   * customer's client shows it under their message. SES replaces any Message-ID we would set.
   */
  async sendReply(tenantId: string, reply: EmailReply): Promise<DeliveryReceipt> {
    return this.sendSimple(tenantId, reply);
  }

  private async sendSimple(tenantId: string, email: EmailReply): Promise<DeliveryReceipt> {
    const headers = [
      ...(email.inReplyTo ? [{ Name: 'In-Reply-To', Value: email.inReplyTo }] : []),
      ...(email.references ? [{ Name: 'References', Value: email.references }] : []),
    ];
    const command = new SendEmailCommand({
      FromEmailAddress: email.from,
      Destination: { ToAddresses: [email.to] },
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: email.text, Charset: 'UTF-8' } },
          ...(headers.length > 0 ? { Headers: headers } : {}),
        },
      },
      // Lets bounces and complaints be traced back to the tenant in SES's event stream.
      EmailTags: [{ Name: 'tenantId', Value: tenantId.replace(/[^A-Za-z0-9_-]/g, '_') }],
      ...(this.configurationSetName ? { ConfigurationSetName: this.configurationSetName } : {}),
    });
    try {
      const output = await withRetries(() => this.client.send(command), verdict, this.retry);
      // SES accepted the message; a missing id must not turn into a failure (and a second send).
      return {
        provider: PROVIDER,
        providerId: output.MessageId ?? output.$metadata.requestId ?? 'unknown',
        status: 'sent',
      };
    } catch (error) {
      throw awsProviderFailure(PROVIDER, error);
    }
  }

  private async fromAddressOf(tenantId: string): Promise<string> {
    const stored = await this.credentials.get(tenantId, PROVIDER);
    if (stored) {
      const parsed = tenantSenderSchema().safeParse(stored);
      if (!parsed.success) {
        throw new ProviderError(PROVIDER, false, "this tenant's SES sender (fromAddress) is invalid");
      }
      return parsed.data.fromAddress;
    }
    if (!this.defaultFromAddress) {
      throw new ProviderError(
        PROVIDER,
        false,
        'no sender address: the tenant has none and the platform default (SES_FROM_ADDRESS) is not set',
      );
    }
    return this.defaultFromAddress;
  }
}

/** The client, built here so that bundles keep only the one command this adapter sends. */
export const sesClient = (config: SESv2ClientConfig): SESv2Client => new SESv2Client(config);
