import { Secret, TOTP } from 'otpauth';
import { type ApiClient, PASSWORD, registerTenant, startApi } from '../support/api';

/**
 * Issue 10, item 6, over HTTP in local mode (which keeps Cognito's rules): a user enrols a TOTP
 * authenticator with their password, and from then on login asks for a code, which a second call
 * answers with the session the first returned.
 */
let api: ApiClient;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.platform.stop());

const STEP_MS = 30_000;
const login = (email: string) =>
  api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
const answer = (email: string, session: string, code: string) =>
  api.request('POST', '/v1/auth/login/challenge', {
    body: { email, challenge: 'SOFTWARE_TOKEN_MFA', session, code },
  });

/** A user with TOTP enabled, and their authenticator. */
async function enrolledUser() {
  const { email } = await registerTenant(api);
  const begun = await api.request('POST', '/v1/auth/mfa/totp', { body: { email, password: PASSWORD } });
  expect(begun.status).toBe(200);
  const authenticator = new TOTP({ secret: Secret.fromBase32(begun.body.secretCode as string) });
  const enrolmentCode = authenticator.generate();
  const confirmed = await api.request('POST', '/v1/auth/mfa/totp/verify', {
    body: { email, password: PASSWORD, code: enrolmentCode },
  });
  expect(confirmed.status).toBe(204);
  return { email, authenticator, enrolmentCode };
}

describe('TOTP enrolment', () => {
  it('gives a secret to scan only for the right password, and switches MFA on only with a matching code', async () => {
    const { email } = await registerTenant(api);
    const wrongPassword = await api.request('POST', '/v1/auth/mfa/totp', {
      body: { email, password: 'Wrong-Horse-99' },
    });
    expect(wrongPassword.status).toBe(401);
    expect(wrongPassword.text).not.toMatch(/secret/i);

    const notPending = await api.request('POST', '/v1/auth/mfa/totp/verify', {
      body: { email, password: PASSWORD, code: '123456' },
    });
    expect(notPending.status).toBe(409);

    const begun = await api.request('POST', '/v1/auth/mfa/totp', { body: { email, password: PASSWORD } });
    expect(begun.status).toBe(200);
    expect(begun.body.secretCode).toMatch(/^[A-Z2-7]{32}$/);
    expect(begun.body.otpauthUri).toContain(`secret=${begun.body.secretCode}`);
    const authenticator = new TOTP({ secret: Secret.fromBase32(begun.body.secretCode) });

    const wrongCode = await api.request('POST', '/v1/auth/mfa/totp/verify', {
      body: {
        email,
        password: PASSWORD,
        code: authenticator.generate({ timestamp: Date.now() + 10 * STEP_MS }),
      },
    });
    expect(wrongCode.status).toBe(400);
    expect(wrongCode.body.error.message).toMatch(/^body\.code: /);
    // Not yet enrolled: login still gives a token at once.
    expect((await login(email)).body.token).toEqual(expect.any(String));

    const confirmed = await api.request('POST', '/v1/auth/mfa/totp/verify', {
      body: { email, password: PASSWORD, code: authenticator.generate() },
    });
    expect(confirmed.status).toBe(204);
    const again = await api.request('POST', '/v1/auth/mfa/totp', { body: { email, password: PASSWORD } });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already enabled/);
  });
});

describe('login with TOTP enabled', () => {
  it('answers the password with a challenge and no token, and the code with a token that works', async () => {
    const { email, authenticator } = await enrolledUser();
    const first = await login(email);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ challenge: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });

    // The enrolment spent the current step's code; the authenticator's next one signs in.
    const done = await answer(
      email,
      first.body.session,
      authenticator.generate({ timestamp: Date.now() + STEP_MS }),
    );
    expect(done.status).toBe(200);
    expect(done.body).toEqual({
      token: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: expect.any(Number),
    });
    const me = await api.request('GET', '/v1/tenant', { token: done.body.token });
    expect(me.status).toBe(200);
  });

  it('refuses a wrong code with a clear 401 and no token, and the session with it: each guess costs a password', async () => {
    const { email, authenticator } = await enrolledUser();
    const { body } = await login(email);
    const wrong = await answer(email, body.session, '000000');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toBe('the code is incorrect: sign in again for a new attempt');
    expect(wrong.body.token).toBeUndefined();
    const retry = await answer(
      email,
      body.session,
      authenticator.generate({ timestamp: Date.now() + STEP_MS }),
    );
    expect(retry.status).toBe(401);
    expect(retry.body.error.message).toMatch(/session has expired, was used already or is unknown/);
  });

  it('refuses a code already used, an unknown session, and a session for another email (401)', async () => {
    const { email, authenticator, enrolmentCode } = await enrolledUser();
    // The very code enrolment used (generating it again could cross into the next 30 s step).
    const replay = await answer(email, (await login(email)).body.session, enrolmentCode);
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/used already/);

    const unknown = await answer(
      email,
      'x'.repeat(43),
      authenticator.generate({ timestamp: Date.now() + STEP_MS }),
    );
    expect(unknown.status).toBe(401);

    const other = await enrolledUser();
    const othersSession = (await login(other.email)).body.session;
    const crossed = await answer(
      email,
      othersSession,
      authenticator.generate({ timestamp: Date.now() + STEP_MS }),
    );
    expect(crossed.status).toBe(401);
    expect(crossed.body.token).toBeUndefined();
  });

  it('names the field of a bad answer (400)', async () => {
    const { email } = await registerTenant(api);
    const noCode = await api.request('POST', '/v1/auth/login/challenge', {
      body: { email, challenge: 'SOFTWARE_TOKEN_MFA', session: 's'.repeat(40) },
    });
    expect(noCode.status).toBe(400);
    expect(noCode.body.error.message).toMatch(/body\.code/);
    const shortCode = await api.request('POST', '/v1/auth/login/challenge', {
      body: { email, challenge: 'SOFTWARE_TOKEN_MFA', session: 's'.repeat(40), code: '12' },
    });
    expect(shortCode.body.error.message).toMatch(/body\.code: must be the 6-digit code/);
    const noSession = await api.request('POST', '/v1/auth/login/challenge', {
      body: { email, challenge: 'SOFTWARE_TOKEN_MFA', code: '123456' },
    });
    expect(noSession.status).toBe(400);
    expect(noSession.body.error.message).toMatch(/body\.session/);
    const noNewPassword = await api.request('POST', '/v1/auth/login/challenge', {
      body: { email, challenge: 'NEW_PASSWORD_REQUIRED', session: 's'.repeat(40) },
    });
    expect(noNewPassword.body.error.message).toMatch(/body\.newPassword/);
  });
});
