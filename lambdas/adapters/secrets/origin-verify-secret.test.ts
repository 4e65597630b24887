import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { originVerifySecret } from './origin-verify-secret';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:OriginVerify-AbCdEf';
const VALUE = 'k2Jd8sQpL0vXw4ZyT7nB1cR5mF9gH3aE6uV0iO2pS8dK4lJ7';

describe('the origin-verify secret', () => {
  const secrets = mockClient(SecretsManagerClient);
  beforeEach(() => secrets.reset());

  it('is read once per instance, however many requests need it', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString: VALUE });
    const read = originVerifySecret(ARN, new SecretsManagerClient({}));
    expect(await Promise.all([read(), read()])).toEqual([VALUE, VALUE]);
    expect(await read()).toBe(VALUE);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('keeps no failure: the next request reads it again', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }))
      .resolves({ SecretString: VALUE });
    const read = originVerifySecret(ARN, new SecretsManagerClient({}));
    await expect(read()).rejects.toThrow('throttled');
    expect(await read()).toBe(VALUE);
  });

  it('refuses an empty or short secret, naming the secret and not its value', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'Xy7-tiny' });
    const read = originVerifySecret(ARN, new SecretsManagerClient({}));
    const error = await read().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe(`The origin-verify secret ${ARN} is empty or shorter than 32 characters`);
    expect(error?.message).not.toContain('Xy7-tiny');
  });
});
