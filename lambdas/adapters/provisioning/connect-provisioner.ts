import {
  AssociatePhoneNumberContactFlowCommand,
  ClaimPhoneNumberCommand,
  type ConnectClient,
  CreateContactFlowCommand,
  DeleteContactFlowCommand,
  DisassociatePhoneNumberContactFlowCommand,
  ReleasePhoneNumberCommand,
  SearchAvailablePhoneNumbersCommand,
} from '@aws-sdk/client-connect';
import { ProviderError } from '../../domain/actions/ports';
import { ThrottledError, type VoiceProvisioner } from '../../domain/provisioning/ports';
import { errorName } from '../retry';

const PROVIDER = 'connect';
const THROTTLED = new Set(['ThrottlingException', 'TooManyRequestsException']);
const TRANSIENT = new Set([
  'InternalServiceException',
  'ServiceUnavailableException',
  'IdempotencyException',
]);
const GONE = new Set(['ResourceNotFoundException']);

/**
 * Amazon Connect for provisioning: numbers claimed into the one shared instance, a contact flow per
 * agent, and their association. No retries here: the workflow's Retry (with backoff, Connect
 * allowing about 2 calls a second per account) retries `ThrottledError` and retryable failures,
 * so a throttled call costs no Lambda time waiting. Build the client with `maxAttempts: 1`.
 */
export class ConnectProvisioner implements VoiceProvisioner {
  constructor(
    private readonly client: Pick<ConnectClient, 'send'>,
    /** The instance's ARN (numbers are claimed to an ARN target) and its id. */
    private readonly instance: { readonly arn: string; readonly id: string },
  ) {}

  private async call<T>(what: string, run: () => Promise<T>, goneIsFine = false): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      const name = errorName(error) ?? 'Error';
      if (goneIsFine && GONE.has(name)) return undefined;
      if (THROTTLED.has(name)) throw new ThrottledError(`connect ${what}: ${name}`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError(PROVIDER, TRANSIENT.has(name), `${what}: ${name}: ${message}`.slice(0, 300));
    }
  }

  async claimNumber(request: Parameters<VoiceProvisioner['claimNumber']>[0]) {
    const found = await this.call('SearchAvailablePhoneNumbers', () =>
      this.client.send(
        new SearchAvailablePhoneNumbersCommand({
          TargetArn: this.instance.arn,
          PhoneNumberCountryCode: request.countryCode as never,
          PhoneNumberType: request.type,
          MaxResults: 1,
        }),
      ),
    );
    const phoneNumber = found?.AvailableNumbersList?.[0]?.PhoneNumber;
    if (!phoneNumber) {
      throw new ProviderError(
        PROVIDER,
        false,
        `no ${request.type} number available in ${request.countryCode}`,
      );
    }
    const claimed = await this.call('ClaimPhoneNumber', () =>
      this.client.send(
        new ClaimPhoneNumberCommand({
          TargetArn: this.instance.arn,
          PhoneNumber: phoneNumber,
          PhoneNumberDescription: request.description.slice(0, 500),
          // The same provisioning's retried claim is the same claim, not a second number.
          ClientToken: request.clientToken,
        }),
      ),
    );
    if (!claimed?.PhoneNumberId) throw new ProviderError(PROVIDER, true, 'ClaimPhoneNumber returned no id');
    return { phoneNumber, phoneNumberId: claimed.PhoneNumberId };
  }

  async releaseNumber(phoneNumberId: string) {
    await this.call(
      'ReleasePhoneNumber',
      () => this.client.send(new ReleasePhoneNumberCommand({ PhoneNumberId: phoneNumberId })),
      true,
    );
  }

  async createFlow(request: Parameters<VoiceProvisioner['createFlow']>[0]) {
    const made = await this.call('CreateContactFlow', () =>
      this.client.send(
        new CreateContactFlowCommand({
          InstanceId: this.instance.id,
          Name: request.name,
          Type: 'CONTACT_FLOW',
          Description: request.description,
          Content: request.content,
        }),
      ),
    );
    if (!made?.ContactFlowId || !made.ContactFlowArn) {
      throw new ProviderError(PROVIDER, true, 'CreateContactFlow returned no id');
    }
    return { flowId: made.ContactFlowId, flowArn: made.ContactFlowArn };
  }

  async deleteFlow(flowId: string) {
    await this.call(
      'DeleteContactFlow',
      () =>
        this.client.send(
          new DeleteContactFlowCommand({ InstanceId: this.instance.id, ContactFlowId: flowId }),
        ),
      true,
    );
  }

  async associate(phoneNumberId: string, flowId: string) {
    await this.call('AssociatePhoneNumberContactFlow', () =>
      this.client.send(
        new AssociatePhoneNumberContactFlowCommand({
          PhoneNumberId: phoneNumberId,
          InstanceId: this.instance.id,
          ContactFlowId: flowId,
        }),
      ),
    );
  }

  async disassociate(phoneNumberId: string) {
    await this.call(
      'DisassociatePhoneNumberContactFlow',
      () =>
        this.client.send(
          new DisassociatePhoneNumberContactFlowCommand({
            PhoneNumberId: phoneNumberId,
            InstanceId: this.instance.id,
          }),
        ),
      true,
    );
  }
}
