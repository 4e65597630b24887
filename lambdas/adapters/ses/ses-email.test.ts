import {
  AccountSuspendedException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { type CredentialsPort, ProviderError } from '../../domain/actions/ports';
import { SesEmail, type SesEmailOptions } from './ses-email';

const TENANT = 'ten_01J0000000000000000000000A';
const OTHER_TENANT = 'ten_01J0000000000000000000000B';
const ses = mockClient(SESv2Client);

class FakeCredentials implements CredentialsPort {
  readonly calls: string[] = [];
  constructor(private readonly store: Record<string, Record<string, string>> = {}) {}
  async get<T extends Record<string, string>>(tenantId: string, provider: string) {
    this.calls.push(`${tenantId}/${provider}`);
    return this.store[`${tenantId}/${provider}`] as T | undefined;
  }
}

const SENT = { MessageId: '0100018f2c3e4d5a-6b7c8d9e-1f20-4a3b-9c8d-7e6f5a4b3c2d-000000', $metadata: {} };
const EMAIL = { to: 'jane@example.com', subject: 'Your booking — confirmed ✓', body: 'See you at 10:00.' };

let sleeps: number[];

beforeEach(() => {
  ses.reset();
  sleeps = [];
});

function email(options: Partial<SesEmailOptions> = {}) {
  return new SesEmail(new SESv2Client({ region: 'us-east-1', maxAttempts: 1 }), {
    credentials: new FakeCredentials(),
    defaultFromAddress: 'no-reply@platform.example',
    retry: {
      maxAttempts: 3,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
    ...options,
  });
}

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

describe('SesEmail', () => {
  it('sends a simple UTF-8 text email from the platform default and returns the MessageId', async () => {
    ses.on(SendEmailCommand).resolves(SENT);
    const receipt = await email().send(TENANT, EMAIL);

    expect(receipt).toEqual({ provider: 'ses', providerId: SENT.MessageId, status: 'sent' });
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      FromEmailAddress: 'no-reply@platform.example',
      Destination: { ToAddresses: ['jane@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Your booking — confirmed ✓', Charset: 'UTF-8' },
          Body: { Text: { Data: 'See you at 10:00.', Charset: 'UTF-8' } },
        },
      },
      EmailTags: [{ Name: 'tenantId', Value: TENANT }],
    });
  });

  it("sends from the tenant's own address when its ses secret has one", async () => {
    ses.on(SendEmailCommand).resolves(SENT);
    const credentials = new FakeCredentials({
      [`${TENANT}/ses`]: { fromAddress: 'hello@acme-dental.example' },
    });
    await email({ credentials }).send(TENANT, EMAIL);
    await email({ credentials }).send(OTHER_TENANT, EMAIL);

    const froms = ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input.FromEmailAddress);
    expect(froms).toEqual(['hello@acme-dental.example', 'no-reply@platform.example']);
    expect(credentials.calls).toEqual([`${TENANT}/ses`, `${OTHER_TENANT}/ses`]);
  });

  it('sends a reply from the given mailbox with In-Reply-To and References headers', async () => {
    ses.on(SendEmailCommand).resolves(SENT);
    const receipt = await email().sendReply(TENANT, {
      from: 'help@acme-dental.example',
      to: 'jane@example.com',
      subject: 'Re: Booking',
      text: 'Thursday 10:00 is yours.',
      inReplyTo: '<c2@mail.example>',
      references: '<c1@mail.example> <c2@mail.example>',
    });
    expect(receipt.providerId).toBe(SENT.MessageId);
    expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input).toEqual({
      FromEmailAddress: 'help@acme-dental.example',
      Destination: { ToAddresses: ['jane@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Re: Booking', Charset: 'UTF-8' },
          Body: { Text: { Data: 'Thursday 10:00 is yours.', Charset: 'UTF-8' } },
          Headers: [
            { Name: 'In-Reply-To', Value: '<c2@mail.example>' },
            { Name: 'References', Value: '<c1@mail.example> <c2@mail.example>' },
          ],
        },
      },
      EmailTags: [{ Name: 'tenantId', Value: TENANT }],
    });
  });

  it('passes the configuration set when one is configured', async () => {
    ses.on(SendEmailCommand).resolves(SENT);
    await email({ configurationSetName: 'platform-events' }).send(TENANT, EMAIL);
    expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input.ConfigurationSetName).toBe('platform-events');
  });

  it('refuses without calling SES when there is no sender at all', async () => {
    const error = await failureOf(email({ defaultFromAddress: undefined }).send(TENANT, EMAIL));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: 'ses', retryable: false, code: 'PROVIDER_REJECTED' });
    expect(ses.calls()).toHaveLength(0);
  });

  it('refuses a tenant secret whose fromAddress is not an address, without echoing it', async () => {
    const credentials = new FakeCredentials({ [`${TENANT}/ses`]: { fromAddress: 'not-an-address' } });
    const error = await failureOf(email({ credentials }).send(TENANT, EMAIL));
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).not.toContain('not-an-address');
    expect(ses.calls()).toHaveLength(0);
  });

  it('retries throttling and succeeds', async () => {
    ses
      .on(SendEmailCommand)
      .rejectsOnce(new TooManyRequestsException({ message: 'Too many requests', ...meta(429) }))
      .resolves(SENT);
    const receipt = await email().send(TENANT, EMAIL);
    expect(receipt.providerId).toBe(SENT.MessageId);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('retries an unmodelled ThrottlingException, 5xx and $retryable errors', async () => {
    const unmodelled = (name: string, status: number, retryable?: boolean) => {
      const error = new SESv2ServiceException({
        name,
        $fault: status >= 500 ? 'server' : 'client',
        message: name,
        ...meta(status),
      });
      // The constructor does not take it; the deserializer sets it on the instance.
      if (retryable) error.$retryable = { throttling: false };
      return error;
    };
    ses
      .on(SendEmailCommand)
      .rejectsOnce(unmodelled('ThrottlingException', 400))
      .rejectsOnce(unmodelled('SomethingNew', 503))
      .resolves(SENT);
    await email().send(TENANT, EMAIL);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(3);

    ses.reset();
    ses
      .on(SendEmailCommand)
      .rejectsOnce(unmodelled('Flaky', 400, true))
      .resolves(SENT);
    await email().send(TENANT, EMAIL);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
  });

  it('reports a retryable ProviderError once the attempts run out', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', ...meta(429) }));
    const error = await failureOf(email().send(TENANT, EMAIL));
    expect(error).toMatchObject({
      provider: 'ses',
      retryable: true,
      providerCode: 'TooManyRequestsException',
      code: 'PROVIDER_UNAVAILABLE',
    });
    expect((error as Error).message).toContain('gave up after 3 attempts');
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(3);
  });

  it.each([
    [
      'MessageRejected',
      () => new MessageRejected({ message: 'Email address is not verified.', ...meta(400) }),
    ],
    [
      'MailFromDomainNotVerifiedException',
      () =>
        new MailFromDomainNotVerifiedException({ message: 'MAIL FROM domain not verified', ...meta(400) }),
    ],
    [
      'AccountSuspendedException',
      () => new AccountSuspendedException({ message: 'Account suspended', ...meta(400) }),
    ],
  ])('does not retry %s', async (name, build) => {
    ses.on(SendEmailCommand).rejects(build());
    const error = await failureOf(email().send(TENANT, EMAIL));
    expect(error).toMatchObject({ provider: 'ses', retryable: false, providerCode: name });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries a network timeout', async () => {
    ses
      .on(SendEmailCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }))
      .resolves(SENT);
    await email().send(TENANT, EMAIL);
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(2);
  });
});
