import { ConnectClient, StartOutboundVoiceContactCommand } from '@aws-sdk/client-connect';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { StripeStub } from '../../test/support/stripe-stub';
import { localOutbox } from '../adapters/local/local-outbox';
import { type CredentialsPort, ProviderError } from '../domain/actions/ports';
import { outboundAdapters } from './outbound';

const TENANT = 'ten_01J0000000000000000000000A';
const AGENT = 'agt_01J0000000000000000000000C';
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';

const ses = mockClient(SESv2Client);
const connect = mockClient(ConnectClient);
const secrets = mockClient(SecretsManagerClient);

const LIVE_ENV = {
  STAGE: 'dev',
  AWS_REGION: 'eu-west-1',
  SES_FROM_ADDRESS: 'no-reply@platform.example',
  CONNECT_INSTANCE_ID: 'a1b2c3d4-0000-4000-8000-000000000001',
  CONNECT_CONTACT_FLOW_ID: 'flow-default',
  CONNECT_SOURCE_PHONE_NUMBER: '+15550100000',
};

const noRetry = { maxAttempts: 1, sleep: async () => {} };
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);

let fetchSpy: jest.SpiedFunction<typeof fetch>;

beforeEach(() => {
  ses.reset();
  connect.reset();
  secrets.reset();
  localOutbox.clear();
  fetchSpy = jest.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network in tests'));
});

afterEach(() => {
  fetchSpy.mockRestore();
});

describe('outboundAdapters: mode', () => {
  it.each([
    [{ STAGE: 'local' }, 'outbox'],
    [{}, 'outbox'],
    [{ STAGE: 'dev' }, 'live'],
    [{ STAGE: 'prod' }, 'live'],
    [{ STAGE: 'dev', OUTBOUND_MODE: 'outbox' }, 'outbox'],
    [{ STAGE: 'local', OUTBOUND_MODE: 'live' }, 'live'],
    [{ STAGE: 'dev', OUTBOUND_MODE: '' }, 'live'],
  ])('%j → %s', (env, mode) => {
    expect(outboundAdapters({ env }).mode).toBe(mode);
  });

  it('refuses an unknown mode, naming the variable', () => {
    expect(() => outboundAdapters({ env: { OUTBOUND_MODE: 'smtp' } })).toThrow(/OUTBOUND_MODE/);
  });

  it('refuses a malformed SES_FROM_ADDRESS', () => {
    expect(() => outboundAdapters({ env: { STAGE: 'dev', SES_FROM_ADDRESS: 'nobody' } })).toThrow(
      /SES_FROM_ADDRESS/,
    );
  });
});

describe('outboundAdapters: outbox mode', () => {
  it('sends everything to the one process-wide outbox, and exposes it', async () => {
    const first = outboundAdapters({ env: { STAGE: 'local' } });
    const second = outboundAdapters({ env: { STAGE: 'local' } });
    expect(first.outbox).toBe(localOutbox);
    expect(second.outbox).toBe(localOutbox);

    await first.messaging.send(TENANT, { channel: 'sms', to: '+15550100199', body: 'hi' });
    await first.email.send(TENANT, { to: 'a@b.example', subject: 's', body: 'b' });
    await first.voice.placeCall(TENANT, { agentId: AGENT, to: '+15550100199', purpose: 'p' });
    const paid = await first.payments.charge(TENANT, {
      amountMinor: 100,
      currency: 'EUR',
      description: 'd',
      idempotencyKey: 'k',
    });

    expect(paid.provider).toBe('local-payments');
    expect(second.outbox?.list(TENANT, { limit: 10 }).items.map((r) => r.kind)).toEqual([
      'payment',
      'call',
      'email',
      'sms',
    ]);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(ses.calls()).toHaveLength(0);
  });
});

describe('outboundAdapters: live mode', () => {
  it('builds no SDK client until the first send, then one per service, reused', async () => {
    const built = { ses: 0, connect: 0, secretsManager: 0 };
    const adapters = outboundAdapters({
      env: LIVE_ENV,
      retry: noRetry,
      clients: {
        ses: () => {
          built.ses++;
          return new SESv2Client({ region: 'eu-west-1' });
        },
        connect: () => {
          built.connect++;
          return new ConnectClient({ region: 'eu-west-1' });
        },
        secretsManager: () => {
          built.secretsManager++;
          return new SecretsManagerClient({ region: 'eu-west-1' });
        },
      },
    });
    expect(adapters.outbox).toBeUndefined();
    expect(built).toEqual({ ses: 0, connect: 0, secretsManager: 0 });

    secrets
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'none', $metadata: { httpStatusCode: 400 } }));
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1', $metadata: {} });
    connect.on(StartOutboundVoiceContactCommand).resolves({ ContactId: 'c-1', $metadata: {} });

    await adapters.email.send(TENANT, { to: 'a@b.example', subject: 's', body: 'b' });
    await adapters.email.send(TENANT, { to: 'c@b.example', subject: 's', body: 'b' });
    await adapters.voice.placeCall(TENANT, { agentId: AGENT, to: '+15550100199', purpose: 'p' });
    expect(built).toEqual({ ses: 1, connect: 1, secretsManager: 1 });
  });

  it('builds the default SDK clients in the configured region with the SDK retries off', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'none', $metadata: { httpStatusCode: 400 } }));
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1', $metadata: {} });
    await outboundAdapters({ env: LIVE_ENV, retry: noRetry }).email.send(TENANT, {
      to: 'a@b.example',
      subject: 's',
      body: 'b',
    });

    const client = ses.send.firstCall.thisValue as SESv2Client;
    expect(await client.config.region()).toBe('eu-west-1');
    expect(await client.config.maxAttempts()).toBe(1);
    const smClient = secrets.send.firstCall.thisValue as SecretsManagerClient;
    expect(await smClient.config.maxAttempts()).toBe(1);
  });

  it('reads tenant secrets under TENANT_SECRETS_PREFIX, by default agent-platform/<stage>', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'none', $metadata: { httpStatusCode: 400 } }));
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1', $metadata: {} });
    const email = { to: 'a@b.example', subject: 's', body: 'b' };
    await outboundAdapters({ env: LIVE_ENV, retry: noRetry }).email.send(TENANT, email);
    await outboundAdapters({
      env: { ...LIVE_ENV, TENANT_SECRETS_PREFIX: 'acme/prod' },
      retry: noRetry,
    }).email.send(TENANT, email);

    expect(secrets.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.SecretId)).toEqual([
      `agent-platform/dev/tenants/${TENANT}/ses`,
      `acme/prod/tenants/${TENANT}/ses`,
    ]);
    expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input.FromEmailAddress).toBe(
      'no-reply@platform.example',
    );
  });

  it('sends SMS through Twilio with the tenant credentials', async () => {
    const credentials: CredentialsPort = {
      get: async <T extends Record<string, string>>(_tenant: string, provider: string) =>
        (provider === 'twilio'
          ? { accountSid: ACCOUNT_SID, authToken: 'tok', smsFrom: '+15550100100' }
          : undefined) as T | undefined,
    };
    fetchSpy.mockResolvedValueOnce(
      new Response(JSON.stringify({ sid: 'SM1', status: 'queued' }), { status: 201 }),
    );
    const receipt = await outboundAdapters({ env: LIVE_ENV, credentials, retry: noRetry }).messaging.send(
      TENANT,
      {
        channel: 'sms',
        to: '+15550100199',
        body: 'hi',
      },
    );
    expect(receipt).toEqual({ provider: 'twilio', providerId: 'SM1', status: 'queued' });
    expect(String(fetchSpy.mock.calls[0]?.[0])).toContain(`/Accounts/${ACCOUNT_SID}/Messages.json`);
  });

  it('places calls through Connect with the configured instance and defaults', async () => {
    const credentials: CredentialsPort = { get: async () => undefined };
    connect.on(StartOutboundVoiceContactCommand).resolves({ ContactId: 'c-1', $metadata: {} });
    const receipt = await outboundAdapters({ env: LIVE_ENV, credentials, retry: noRetry }).voice.placeCall(
      TENANT,
      {
        agentId: AGENT,
        to: '+15550100199',
        purpose: 'p',
      },
    );
    expect(receipt).toEqual({ provider: 'connect', providerId: 'c-1', status: 'initiated' });
    expect(connect.commandCalls(StartOutboundVoiceContactCommand)[0]?.args[0].input).toMatchObject({
      InstanceId: LIVE_ENV.CONNECT_INSTANCE_ID,
      ContactFlowId: 'flow-default',
      SourcePhoneNumber: '+15550100000',
    });
  });

  it('refuses calls, not retryable, when no Connect instance is configured', async () => {
    const { CONNECT_INSTANCE_ID: _, ...withoutVoice } = LIVE_ENV;
    const error = await failureOf(
      outboundAdapters({ env: withoutVoice }).voice.placeCall(TENANT, {
        agentId: AGENT,
        to: '+1555',
        purpose: 'p',
      }),
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({
      provider: 'connect',
      retryable: false,
      message: 'connect: voice is not configured in this environment',
    });
    expect(connect.calls()).toHaveLength(0);
  });

  it("takes payments through Stripe with the tenant's own key, and refuses a tenant without one", async () => {
    fetchSpy.mockRestore(); // This one talks to a local stand-in for api.stripe.com.
    const stripe = new StripeStub('sk_test_tenant777');
    const env = { ...LIVE_ENV, STRIPE_API_BASE: await stripe.start() };
    try {
      const credentials: CredentialsPort = {
        get: async <T extends Record<string, string>>(tenantId: string, provider: string) =>
          (tenantId === TENANT && provider === 'stripe' ? { secretKey: 'sk_test_tenant777' } : undefined) as
            | T
            | undefined,
      };
      const payments = outboundAdapters({ env, credentials, retry: noRetry }).payments;
      const payment = { amountMinor: 2500, currency: 'USD', description: 'deposit', idempotencyKey: 'act_9' };
      const first = await payments.charge(TENANT, payment);
      const again = await payments.charge(TENANT, payment);
      expect(first).toMatchObject({ provider: 'stripe', status: 'pending' });
      expect(again.providerId).toBe(first.providerId);
      expect(stripe.requests.map((r) => r.headers['idempotency-key'])).toEqual(['act_9', 'act_9']);
      expect(stripe.intents.size).toBe(1);
      const refused = await payments.charge('ten_without_stripe', payment).catch((e: unknown) => e);
      expect(refused).toMatchObject({ provider: 'stripe', retryable: false });
      expect(localOutbox.list(TENANT, { limit: 10, kind: 'payment' }).items).toHaveLength(0);
    } finally {
      await stripe.stop();
    }
  });
});
