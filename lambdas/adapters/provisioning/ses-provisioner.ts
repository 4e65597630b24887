import {
  CreateEmailIdentityCommand,
  DeleteEmailIdentityCommand,
  GetEmailIdentityCommand,
  type SESv2Client,
} from '@aws-sdk/client-sesv2';
import { ProviderError } from '../../domain/actions/ports';
import { type EmailProvisioner, ThrottledError } from '../../domain/provisioning/ports';
import { errorName } from '../retry';

/**
 * SES for an email channel: the mailbox's domain as an identity (created, and its DKIM records to
 * publish, when the tenant had none) and the receipt rule the platform's email-receiving stack
 * deployed for it. Receipt rules are SES v1 (no v2 API): the deployed rule's recipients are given
 * here from the environment (EMAIL_RECEIVING_DOMAINS), so no v1 client is needed.
 */
export class SesProvisioner implements EmailProvisioner {
  constructor(
    private readonly client: Pick<SESv2Client, 'send'>,
    /** Domains (or addresses) the active receipt rule takes mail in for, and the rule's name. */
    private readonly receiving:
      | { readonly ruleName: string; readonly recipients: readonly string[] }
      | undefined,
  ) {}

  private fail(what: string, error: unknown): never {
    const name = errorName(error) ?? 'Error';
    if (name === 'TooManyRequestsException' || name === 'ThrottlingException')
      throw new ThrottledError(`ses ${what}`);
    throw new ProviderError(
      'ses',
      name === 'InternalFailure' || name === 'ServiceUnavailable',
      `${what}: ${name}`,
    );
  }

  async ensureIdentity(address: string) {
    const domain = address.slice(address.lastIndexOf('@') + 1);
    let created = false;
    let verified = false;
    try {
      const found = await this.client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
      verified = found.VerifiedForSendingStatus === true;
    } catch (error) {
      if (errorName(error) !== 'NotFoundException') this.fail('GetEmailIdentity', error);
      try {
        await this.client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
        created = true;
      } catch (createError) {
        if (errorName(createError) !== 'AlreadyExistsException')
          this.fail('CreateEmailIdentity', createError);
      }
    }
    const takes = this.receiving?.recipients.some(
      (r) => r.toLowerCase() === address.toLowerCase() || r.toLowerCase() === domain.toLowerCase(),
    );
    return { identity: domain, created, verified, receiptRule: takes ? this.receiving?.ruleName : undefined };
  }

  async deleteIdentity(identity: string) {
    try {
      await this.client.send(new DeleteEmailIdentityCommand({ EmailIdentity: identity }));
    } catch (error) {
      if (errorName(error) !== 'NotFoundException') this.fail('DeleteEmailIdentity', error);
    }
  }
}
