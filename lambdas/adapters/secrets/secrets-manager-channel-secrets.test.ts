import { inspect } from 'node:util';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ProviderError } from '../../domain/actions/ports';
import {
  SecretsManagerChannelSecrets,
  type SecretsManagerChannelSecretsOptions,
} from './secrets-manager-channel-secrets';

const TENANT = 'ten_01J0000000000000000000000A';
const AGENT = 'agt_01J0000000000000000000000B';
const NAME = `agent-platform/dev/tenants/${TENANT}/channels/${AGENT}/sms`;
const TOKEN = 'tw-auth-SECRET-1234567890';
const CREDENTIALS = { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: TOKEN };
const sm = mockClient(SecretsManagerClient);

const meta = { $metadata: { httpStatusCode: 400 } };
const notFound = () =>
  new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta });
const markedForDeletion = () =>
  new InvalidRequestException({
    message: "You can't perform this operation on the secret because it was marked for deletion.",
    ...meta,
  });

let clock: number;
beforeEach(() => {
  sm.reset();
  clock = 1_700_000_000_000;
});

function store(options: Partial<SecretsManagerChannelSecretsOptions> = {}) {
  return new SecretsManagerChannelSecrets(new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 }), {
    prefix: 'agent-platform/dev/',
    now: () => clock,
    retry: { maxAttempts: 3, sleep: async () => undefined, random: () => 0 },
    ...options,
  });
}

const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);

function expectNoSecretIn(error: unknown) {
  expect(error).toBeInstanceOf(ProviderError);
  const shown = `${inspect(error, { depth: 10 })} ${JSON.stringify(error)} ${(error as Error).message}`;
  expect(shown).not.toContain(TOKEN);
}

describe('SecretsManagerChannelSecrets', () => {
  it('writes a new version of an existing secret at the tenant-scoped path', async () => {
    sm.on(PutSecretValueCommand).resolves({});
    await store().put(TENANT, AGENT, 'sms', CREDENTIALS);
    const [call] = sm.commandCalls(PutSecretValueCommand);
    expect(call?.args[0].input).toEqual({ SecretId: NAME, SecretString: JSON.stringify(CREDENTIALS) });
    expect(sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  it('creates the secret, tagged with its tenant, agent and channel, when there is none', async () => {
    sm.on(PutSecretValueCommand).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({});
    await store().put(TENANT, AGENT, 'sms', CREDENTIALS);
    const [call] = sm.commandCalls(CreateSecretCommand);
    expect(call?.args[0].input).toMatchObject({
      Name: NAME,
      SecretString: JSON.stringify(CREDENTIALS),
      Tags: [
        { Key: 'tenant', Value: TENANT },
        { Key: 'agent', Value: AGENT },
        { Key: 'channel', Value: 'sms' },
      ],
    });
  });

  it('writes a version when another writer created the secret first', async () => {
    sm.on(PutSecretValueCommand).rejectsOnce(notFound()).resolves({});
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', ...meta }));
    await store().put(TENANT, AGENT, 'sms', CREDENTIALS);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(2);
  });

  it('restores a secret in its recovery window before writing to it', async () => {
    sm.on(PutSecretValueCommand).rejectsOnce(markedForDeletion()).resolves({});
    sm.on(RestoreSecretCommand).resolves({});
    await store().put(TENANT, AGENT, 'sms', CREDENTIALS);
    expect(sm.commandCalls(RestoreSecretCommand)[0]?.args[0].input).toEqual({ SecretId: NAME });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(2);
  });

  it('deletes with a recovery window by default, or at once when told to force', async () => {
    sm.on(DeleteSecretCommand).resolves({});
    await store().delete(TENANT, AGENT, 'sms');
    await store({ deletion: 'force' }).delete(TENANT, AGENT, 'sms');
    await store({ deletion: { recoveryWindowDays: 30 } }).delete(TENANT, AGENT, 'sms');
    expect(sm.commandCalls(DeleteSecretCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: NAME, RecoveryWindowInDays: 7 },
      { SecretId: NAME, ForceDeleteWithoutRecovery: true },
      { SecretId: NAME, RecoveryWindowInDays: 30 },
    ]);
    expect(() => store({ deletion: { recoveryWindowDays: 3 } })).toThrow(/7 to 30/);
  });

  it('treats deleting a missing or already deleted secret as done', async () => {
    sm.on(DeleteSecretCommand).rejectsOnce(notFound()).rejectsOnce(markedForDeletion());
    await expect(store().delete(TENANT, AGENT, 'sms')).resolves.toBeUndefined();
    await expect(store().delete(TENANT, AGENT, 'sms')).resolves.toBeUndefined();
  });

  it('reads the secret, reuses it within the TTL, and reads again after a change through it', async () => {
    sm.on(GetSecretValueCommand, { SecretId: NAME }).resolves({ SecretString: JSON.stringify(CREDENTIALS) });
    sm.on(PutSecretValueCommand).resolves({});
    const secrets = store({ ttlMs: 60_000 });
    expect(await secrets.get(TENANT, AGENT, 'sms')).toEqual(CREDENTIALS);
    clock += 59_000;
    await secrets.get(TENANT, AGENT, 'sms');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    await secrets.put(TENANT, AGENT, 'sms', CREDENTIALS);
    await secrets.get(TENANT, AGENT, 'sms');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    clock += 61_000;
    await secrets.get(TENANT, AGENT, 'sms');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('answers undefined for a missing or deleted secret, and does not remember it', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(notFound())
      .rejectsOnce(markedForDeletion())
      .resolves({
        SecretString: JSON.stringify(CREDENTIALS),
      });
    const secrets = store();
    expect(await secrets.get(TENANT, AGENT, 'sms')).toBeUndefined();
    expect(await secrets.get(TENANT, AGENT, 'sms')).toBeUndefined();
    expect(await secrets.get(TENANT, AGENT, 'sms')).toEqual(CREDENTIALS);
  });

  it('retries the service’s own faults, then gives a retryable error', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new InternalServiceError({ message: 'internal', $metadata: { httpStatusCode: 500 } }),
    );
    const error = await failureOf(store().get(TENANT, AGENT, 'sms'));
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).details).toMatchObject({ retryable: true });
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('never puts a credential in an error, even when the service echoes it', async () => {
    sm.on(PutSecretValueCommand).rejects(
      new InvalidParameterException({ message: `bad SecretString ${JSON.stringify(CREDENTIALS)}`, ...meta }),
    );
    const error = await failureOf(store().put(TENANT, AGENT, 'sms', CREDENTIALS));
    expectNoSecretIn(error);
    expect((error as Error).message).toContain(NAME);
  });

  it('never quotes a malformed secret it read', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: `{"authToken": "${TOKEN}"` });
    const error = await failureOf(store().get(TENANT, AGENT, 'sms'));
    expectNoSecretIn(error);
    expect((error as Error).message).toMatch(/not JSON/);
  });

  it('refuses ids that would add a path segment', async () => {
    await expect(store().get('ten_a/../ten_b', AGENT, 'sms')).rejects.toThrow(/plain identifier/);
    expect(sm.calls()).toHaveLength(0);
  });

  it('shows no secret when the adapter itself is logged', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(CREDENTIALS) });
    const secrets = store();
    await secrets.get(TENANT, AGENT, 'sms');
    expect(inspect(secrets, { depth: 10 })).not.toContain(TOKEN);
  });
});
