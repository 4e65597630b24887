import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ValidationError } from '../domain/shared/errors';
import { decodeCursor, encodeCursor, forgetCursorSigningKey, openCursor, signCursor } from './cursor-codec';

const KEY = Buffer.from('k'.repeat(32));
const OTHER_KEY = Buffer.from('o'.repeat(32));
const LISTING = JSON.stringify(['agents', 'ten_A', 'active']);
const POSITION = { pk: 'T#ten_A#AGENTS', sk: 'agt_01', n: 3 };

function expectRefused(open: () => unknown) {
  try {
    open();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect(JSON.stringify((error as ValidationError).details)).toContain('query.cursor');
    return;
  }
  throw new Error('the cursor was accepted');
}

describe('signed cursors', () => {
  const cursor = signCursor(KEY, LISTING, POSITION);

  it('give back the position to the listing that issued them', () => {
    expect(openCursor(KEY, LISTING, cursor)).toEqual(POSITION);
  });

  it('are refused when any character of the position or the signature changes', () => {
    // Every other letter at every place: including the last one of the signature, whose lowest
    // bits base64url does not use (another spelling of the same bytes is still not the cursor).
    for (let i = 0; i < cursor.length; i++) {
      for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
        if (char === cursor[i] || cursor[i] === '.') continue;
        expectRefused(() => openCursor(KEY, LISTING, `${cursor.slice(0, i)}${char}${cursor.slice(i + 1)}`));
      }
    }
  });

  it('are refused truncated, extended, without a signature, or made up', () => {
    expectRefused(() => openCursor(KEY, LISTING, cursor.slice(0, -1)));
    expectRefused(() => openCursor(KEY, LISTING, `${cursor}A`));
    expectRefused(() => openCursor(KEY, LISTING, cursor.split('.')[0] as string));
    expectRefused(() => openCursor(KEY, LISTING, '.'));
    expectRefused(() => openCursor(KEY, LISTING, ''));
    const unsigned = Buffer.from(JSON.stringify({ s: LISTING, k: POSITION })).toString('base64url');
    expectRefused(() => openCursor(KEY, LISTING, unsigned));
    expectRefused(() => openCursor(KEY, LISTING, `${unsigned}.${'A'.repeat(43)}`));
  });

  it('are refused by another listing, another tenant’s, or under another key', () => {
    expectRefused(() => openCursor(KEY, JSON.stringify(['agents', 'ten_A', 'paused']), cursor));
    expectRefused(() => openCursor(KEY, JSON.stringify(['agents', 'ten_B', 'active']), cursor));
    expectRefused(() => openCursor(OTHER_KEY, LISTING, cursor));
  });
});

describe('the environment’s signing key', () => {
  const secrets = mockClient(SecretsManagerClient);
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
    secrets.reset();
    forgetCursorSigningKey();
  });

  it('is the configured key in local mode and tests', async () => {
    process.env.CURSOR_SIGNING_KEY = 'x'.repeat(40);
    delete process.env.CURSOR_KEY_SECRET_ARN;
    forgetCursorSigningKey();
    const cursor = await encodeCursor(LISTING, POSITION);
    expect(openCursor(Buffer.from('x'.repeat(40)), LISTING, cursor)).toEqual(POSITION);
    await expect(decodeCursor(LISTING, cursor)).resolves.toEqual(POSITION);
    await expect(decodeCursor(LISTING, undefined)).resolves.toBeUndefined();
  });

  it('is read from Secrets Manager once per process on AWS', async () => {
    process.env.CURSOR_KEY_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:cursor-AbCdEf';
    delete process.env.CURSOR_SIGNING_KEY;
    forgetCursorSigningKey();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 's'.repeat(64) });
    const cursor = await encodeCursor(LISTING, POSITION);
    await expect(decodeCursor(LISTING, cursor)).resolves.toEqual(POSITION);
    expect(openCursor(Buffer.from('s'.repeat(64)), LISTING, cursor)).toEqual(POSITION);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:cursor-AbCdEf',
    });
  });

  it('is read again after a failed read', async () => {
    process.env.CURSOR_KEY_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:cursor-AbCdEf';
    delete process.env.CURSOR_SIGNING_KEY;
    forgetCursorSigningKey();
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ SecretString: 's'.repeat(64) });
    await expect(encodeCursor(LISTING, POSITION)).rejects.toThrow('throttled');
    await expect(encodeCursor(LISTING, POSITION)).resolves.toEqual(expect.any(String));
  });

  it('must be configured, and a failure names the variables, never a value', async () => {
    delete process.env.CURSOR_KEY_SECRET_ARN;
    delete process.env.CURSOR_SIGNING_KEY;
    forgetCursorSigningKey();
    await expect(encodeCursor(LISTING, POSITION)).rejects.toThrow(
      /CURSOR_KEY_SECRET_ARN.*CURSOR_SIGNING_KEY/,
    );
    process.env.CURSOR_SIGNING_KEY = 'too-short-secret';
    forgetCursorSigningKey();
    const failure = encodeCursor(LISTING, POSITION);
    await expect(failure).rejects.toThrow('CURSOR_SIGNING_KEY');
    await expect(failure).rejects.not.toThrow('too-short-secret');
  });
});
