import { inspect } from 'node:util';
import {
  DecryptionFailure,
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ProviderError } from '../../domain/actions/ports';
import {
  SecretsManagerCredentials,
  type SecretsManagerCredentialsOptions,
} from './secrets-manager-credentials';

const TENANT = 'ten_01J0000000000000000000000A';
const OTHER_TENANT = 'ten_01J0000000000000000000000B';
const TOKEN = 'tw-auth-SECRET-1234567890';
const sm = mockClient(SecretsManagerClient);

const secret = (value: unknown) => ({
  SecretString: typeof value === 'string' ? value : JSON.stringify(value),
  $metadata: {},
});
const notFound = () =>
  new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret.",
    $metadata: { httpStatusCode: 400 },
  });

let clock: number;
let sleeps: number[];

beforeEach(() => {
  sm.reset();
  clock = 1_700_000_000_000;
  sleeps = [];
});

function credentials(options: Partial<SecretsManagerCredentialsOptions> = {}) {
  return new SecretsManagerCredentials(new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 }), {
    prefix: 'agent-platform/dev',
    now: () => clock,
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
const secretIds = () => sm.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.SecretId);

describe('SecretsManagerCredentials', () => {
  it('reads the JSON secret named after prefix, tenant and provider', async () => {
    sm.on(GetSecretValueCommand, { SecretId: `agent-platform/dev/tenants/${TENANT}/twilio` }).resolves(
      secret({ accountSid: 'AC1', authToken: TOKEN, smsFrom: '+15550100100' }),
    );
    const found = await credentials().get(TENANT, 'twilio');
    expect(found).toEqual({ accountSid: 'AC1', authToken: TOKEN, smsFrom: '+15550100100' });
    expect(secretIds()).toEqual([`agent-platform/dev/tenants/${TENANT}/twilio`]);
  });

  it('answers undefined for a tenant that has no secret', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    await expect(credentials().get(TENANT, 'ses')).resolves.toBeUndefined();
    expect(sleeps).toEqual([]);
  });

  it('caches a found secret per tenant and provider for five minutes', async () => {
    sm.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) =>
      secret({ name: input.SecretId.split('/').slice(-2).join('/') }),
    );
    const port = credentials();
    await port.get(TENANT, 'twilio');
    clock += 4 * 60_000;
    expect(await port.get(TENANT, 'twilio')).toEqual({ name: `${TENANT}/twilio` });
    expect(await port.get(OTHER_TENANT, 'twilio')).toEqual({ name: `${OTHER_TENANT}/twilio` });
    expect(await port.get(TENANT, 'ses')).toEqual({ name: `${TENANT}/ses` });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);

    clock += 60_001;
    await port.get(TENANT, 'twilio');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(4);
  });

  it('caches "none" for a shorter time', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(notFound())
      .resolves(secret({ fromAddress: 'a@b.example' }));
    const port = credentials();
    expect(await port.get(TENANT, 'ses')).toBeUndefined();
    clock += 59_000;
    expect(await port.get(TENANT, 'ses')).toBeUndefined();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    clock += 2_000;
    expect(await port.get(TENANT, 'ses')).toEqual({ fromAddress: 'a@b.example' });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('shares one request between concurrent lookups', async () => {
    sm.on(GetSecretValueCommand).resolves(secret({ a: 'b' }));
    const port = credentials();
    const [first, second] = await Promise.all([port.get(TENANT, 'x'), port.get(TENANT, 'x')]);
    expect(first).toEqual({ a: 'b' });
    expect(second).toBe(first);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('hands out a frozen record, so no caller can change what the next one reads', async () => {
    sm.on(GetSecretValueCommand).resolves(secret({ a: 'b' }));
    const found = await credentials().get(TENANT, 'x');
    expect(Object.isFrozen(found)).toBe(true);
  });

  it('bounds the cache, evicting the oldest entries', async () => {
    sm.on(GetSecretValueCommand).resolves(secret({ a: 'b' }));
    const port = credentials({ maxEntries: 2 });
    await port.get('ten_1', 'x');
    await port.get('ten_2', 'x');
    await port.get('ten_3', 'x');
    await port.get('ten_3', 'x');
    await port.get('ten_2', 'x');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
    await port.get('ten_1', 'x');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(4);
  });

  it('retries internal errors and throttling, and does not cache failures', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new InternalServiceError({ message: 'internal', $metadata: { httpStatusCode: 500 } }))
      .rejectsOnce(throttled)
      .resolves(secret({ a: 'b' }));
    await expect(credentials().get(TENANT, 'x')).resolves.toEqual({ a: 'b' });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);

    sm.reset();
    sm.on(GetSecretValueCommand).rejects(
      new InternalServiceError({ message: 'internal', $metadata: { httpStatusCode: 500 } }),
    );
    const port = credentials();
    const error = await failureOf(port.get(TENANT, 'x'));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ provider: 'secrets-manager', retryable: true });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);

    sm.reset();
    sm.on(GetSecretValueCommand).resolves(secret({ a: 'c' }));
    await expect(port.get(TENANT, 'x')).resolves.toEqual({ a: 'c' });
  });

  it('does not retry a secret it cannot decrypt', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new DecryptionFailure({ message: 'KMS denied', $metadata: { httpStatusCode: 400 } }),
    );
    const error = await failureOf(credentials().get(TENANT, 'x'));
    expect(error).toMatchObject({ retryable: false, providerCode: 'DecryptionFailure' });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it.each([
    ['not JSON', `authToken=${TOKEN}`],
    ['an array', JSON.stringify([TOKEN])],
    ['nested', JSON.stringify({ twilio: { authToken: TOKEN } })],
    ['not all strings', JSON.stringify({ authToken: TOKEN, port: 443 })],
  ])('refuses a secret that is %s without ever showing its value', async (_, value) => {
    sm.on(GetSecretValueCommand).resolves(secret(value));
    const error = await failureOf(credentials().get(TENANT, 'twilio'));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toContain(`agent-platform/dev/tenants/${TENANT}/twilio`);
    expect(`${inspect(error, { depth: 5 })} ${JSON.stringify(error)}`).not.toContain(TOKEN);
  });

  it('refuses tenant ids and providers that would change the secret path', async () => {
    const error = await failureOf(credentials().get(`${TENANT}/../${OTHER_TENANT}`, 'twilio'));
    expect(error).toMatchObject({ retryable: false });
    expect(await failureOf(credentials().get(TENANT, 'twilio/x'))).toBeInstanceOf(ProviderError);
    expect(sm.calls()).toHaveLength(0);
  });

  it('keeps cached secrets out of inspect output', async () => {
    sm.on(GetSecretValueCommand).resolves(secret({ authToken: TOKEN }));
    const port = credentials();
    await port.get(TENANT, 'twilio');
    expect(inspect(port, { depth: 10 })).not.toContain(TOKEN);
  });
});
