import { Secret, TOTP } from 'otpauth';
import { type ApiClient, PASSWORD, registerTenant, startApi, userWithRole } from '../support/api';

/**
 * Removing, replacing and resetting a TOTP authenticator, over HTTP in local mode: the user turns
 * their own off with their password and a current code (then may enrol a new one, and the old
 * secret is dead); an owner or admin resets another user's of their own tenant (a lost phone).
 */
let api: ApiClient;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.platform.stop());

const STEP_MS = 30_000;
const login = (email: string) =>
  api.request('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });

/** Enrols TOTP for `email` (its token, issued before, stays valid); returns the authenticator. */
async function enrol(email: string) {
  const begun = await api.request('POST', '/v1/auth/mfa/totp', { body: { email, password: PASSWORD } });
  expect(begun.status).toBe(200);
  const secretCode = begun.body.secretCode as string;
  const authenticator = new TOTP({ secret: Secret.fromBase32(secretCode) });
  const confirmed = await api.request('POST', '/v1/auth/mfa/totp/verify', {
    body: { email, password: PASSWORD, code: authenticator.generate() },
  });
  expect(confirmed.status).toBe(204);
  expect((await login(email)).body).toEqual({ challenge: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });
  return { authenticator, secretCode };
}

/** The next step's code: enrolment spent the current one, and a code is accepted once. */
const nextCode = (authenticator: TOTP) => authenticator.generate({ timestamp: Date.now() + STEP_MS });

const turnOff = (token: string, body: Record<string, unknown>) =>
  api.request('DELETE', '/v1/auth/mfa/totp', { token, body });

async function auditOf(token: string, route: string) {
  const audit = await api.request('GET', '/v1/audit?type=admin.change&limit=100', { token });
  expect(audit.status).toBe(200);
  return audit.body.items.filter((entry: { details?: { route?: string } }) => entry.details?.route === route);
}

describe('DELETE /v1/auth/mfa/totp (the user turns their own TOTP off)', () => {
  it('refuses a wrong code or password naming the field, then with both right turns it off: login gives a token at once', async () => {
    const { email, token, ownerId } = await registerTenant(api);
    const me = () => api.request('GET', '/v1/me', { token });
    expect((await me()).body.mfa).toEqual({ totp: false });
    const { authenticator } = await enrol(email);
    expect((await me()).body.mfa).toEqual({ totp: true });

    const wrongCode = await turnOff(token, {
      password: PASSWORD,
      code: authenticator.generate({ timestamp: Date.now() + 10 * STEP_MS }),
    });
    expect(wrongCode.status).toBe(400);
    expect(wrongCode.body.error.message).toMatch(/^body\.code: /);
    const wrongPassword = await turnOff(token, { password: 'Wrong-Horse-99', code: nextCode(authenticator) });
    expect(wrongPassword.status).toBe(400);
    expect(wrongPassword.body.error.message).toMatch(/^body\.password: /);
    const noCode = await turnOff(token, { password: PASSWORD });
    expect(noCode.status).toBe(400);
    expect(noCode.body.error.message).toMatch(/body\.code/);
    // Still on after every refusal.
    expect((await login(email)).body.challenge).toBe('SOFTWARE_TOKEN_MFA');

    const off = await turnOff(token, { password: PASSWORD, code: nextCode(authenticator) });
    expect(off.status).toBe(204);
    const signedIn = await login(email);
    expect(signedIn.body).toEqual({
      token: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: expect.any(Number),
    });

    const again = await turnOff(token, { password: PASSWORD, code: nextCode(authenticator) });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/not enabled/);

    const recorded = await auditOf(token, 'DELETE /v1/auth/mfa/totp');
    expect(recorded).toEqual([
      expect.objectContaining({ actor: { kind: 'user', id: ownerId }, outcome: '204' }),
    ]);
    expect(JSON.stringify(recorded)).not.toMatch(/password|code/i);
  });

  it('replaces the authenticator: after turning it off a new secret is enrolled, and the old one no longer signs in', async () => {
    const { email, token } = await registerTenant(api);
    const old = await enrol(email);
    expect((await turnOff(token, { password: PASSWORD, code: nextCode(old.authenticator) })).status).toBe(
      204,
    );

    const replacement = await enrol(email);
    expect(replacement.secretCode).not.toBe(old.secretCode);
    const { body } = await login(email);
    const withOld = await api.request('POST', '/v1/auth/login/challenge', {
      body: {
        email,
        challenge: 'SOFTWARE_TOKEN_MFA',
        session: body.session,
        code: nextCode(old.authenticator),
      },
    });
    expect(withOld.status).toBe(401);
    expect(withOld.body.token).toBeUndefined();
  });
});

describe('POST /v1/users/{id}/mfa/reset (an owner or admin resets a user of their tenant)', () => {
  it('turns the user’s MFA off so they sign in with their password and can enrol again; audited with the actor', async () => {
    const owner = await registerTenant(api);
    const member = await userWithRole(api, owner.token, 'member');
    await enrol(member.email);

    const reset = await api.request('POST', `/v1/users/${member.userId}/mfa/reset`, { token: owner.token });
    expect(reset.status).toBe(204);
    expect((await login(member.email)).body.token).toEqual(expect.any(String));
    await enrol(member.email);

    const recorded = await auditOf(owner.token, 'POST /v1/users/{id}/mfa/reset');
    expect(recorded).toEqual([
      expect.objectContaining({
        actor: { kind: 'user', id: owner.ownerId },
        details: expect.objectContaining({ id: member.userId }),
      }),
    ]);
  });

  it('is refused to another tenant’s owner (404, the user keeps MFA), to a member (403), and to an admin for an owner (403)', async () => {
    const owner = await registerTenant(api);
    const member = await userWithRole(api, owner.token, 'member');
    await enrol(member.email);

    const outsider = await registerTenant(api);
    const crossed = await api.request('POST', `/v1/users/${member.userId}/mfa/reset`, {
      token: outsider.token,
    });
    expect(crossed.status).toBe(404);
    const bySelf = await api.request('POST', `/v1/users/${member.userId}/mfa/reset`, { token: member.token });
    expect(bySelf.status).toBe(403);
    expect((await login(member.email)).body.challenge).toBe('SOFTWARE_TOKEN_MFA');

    const admin = await userWithRole(api, owner.token, 'admin');
    await enrol(owner.email);
    const adminOnOwner = await api.request('POST', `/v1/users/${owner.ownerId}/mfa/reset`, {
      token: admin.token,
    });
    expect(adminOnOwner.status).toBe(403);
    expect((await login(owner.email)).body.challenge).toBe('SOFTWARE_TOKEN_MFA');
  });
});
