import {
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserMFAPreferenceCommand,
  AdminUserGlobalSignOutCommand,
  AssociateSoftwareTokenCommand,
  CodeMismatchException,
  CognitoIdentityProviderClient,
  EnableSoftwareTokenMFAException,
  ExpiredCodeException,
  InvalidParameterException,
  NotAuthorizedException,
  SetUserMFAPreferenceCommand,
  UserNotFoundException,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { ConflictError, UnauthorizedError, ValidationError } from '../../domain/shared/errors';
import type { SignInContext } from '../../domain/tenants/ports';
import { CognitoIdentityProvider } from './cognito-identity';

const cognito = mockClient(CognitoIdentityProviderClient);
const provider = new CognitoIdentityProvider(new CognitoIdentityProviderClient({}), 'pool-1', 'client-1');
const meta = { $metadata: {} };

beforeEach(() => cognito.reset());

describe('CognitoIdentityProvider', () => {
  it('disabling ends every session, then refuses sign-in', async () => {
    await provider.disableUser('ada@example.test');
    const sent = cognito.calls().map((call) => call.args[0]);
    expect(sent.map((command) => command.constructor)).toEqual([
      AdminUserGlobalSignOutCommand,
      AdminDisableUserCommand,
    ]);
    for (const command of sent) {
      expect(command.input).toEqual({ UserPoolId: 'pool-1', Username: 'ada@example.test' });
    }
  });

  it('disabling a user Cognito no longer has is done already', async () => {
    cognito
      .on(AdminUserGlobalSignOutCommand)
      .rejects(new UserNotFoundException({ message: 'User does not exist.', ...meta }));
    await expect(provider.disableUser('gone@example.test')).resolves.toBeUndefined();
  });

  it('enables again', async () => {
    await provider.enableUser('ada@example.test');
    expect(cognito.commandCalls(AdminEnableUserCommand)[0]?.args[0].input).toEqual({
      UserPoolId: 'pool-1',
      Username: 'ada@example.test',
    });
  });

  it('says a disabled user is disabled, and a wrong password only that', async () => {
    cognito
      .on(AdminInitiateAuthCommand)
      .rejectsOnce(new NotAuthorizedException({ message: 'User is disabled.', ...meta }))
      .rejectsOnce(new NotAuthorizedException({ message: 'Incorrect username or password.', ...meta }));
    await expect(provider.authenticate('ada@example.test', 'pw')).rejects.toThrow(
      new UnauthorizedError('this user is disabled'),
    );
    await expect(provider.authenticate('ada@example.test', 'pw')).rejects.toThrow(
      new UnauthorizedError('email or password is incorrect'),
    );
  });

  const context: SignInContext = {
    ipAddress: '203.0.113.7',
    serverName: 'api.example.test',
    serverPath: '/v1/auth/login',
    headers: { 'user-agent': 'curl/8', 'accept-language': 'en' },
    encodedData: 'fingerprint',
  };
  const contextData = {
    IpAddress: '203.0.113.7',
    ServerName: 'api.example.test',
    ServerPath: '/v1/auth/login',
    HttpHeaders: [
      { headerName: 'user-agent', headerValue: 'curl/8' },
      { headerName: 'accept-language', headerValue: 'en' },
    ],
    EncodedData: 'fingerprint',
  };
  const tokens = { IdToken: 'id-token', AccessToken: 'access-token', ExpiresIn: 3600 };
  const mfaChallenge = {
    ChallengeName: 'SOFTWARE_TOKEN_MFA' as const,
    Session: 'cognito-session',
    ChallengeParameters: { USER_ID_FOR_SRP: 'user_1' },
  };

  it("signs in through the admin flow with the caller's context, so threat protection sees the user", async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({ AuthenticationResult: tokens });
    await expect(provider.authenticate('ada@example.test', 'pw', context)).resolves.toEqual({
      token: 'id-token',
      tokenType: 'Bearer',
      expiresIn: 3600,
    });
    expect(cognito.commandCalls(AdminInitiateAuthCommand)[0]?.args[0].input).toEqual({
      UserPoolId: 'pool-1',
      ClientId: 'client-1',
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: 'ada@example.test', PASSWORD: 'pw' },
      ContextData: contextData,
    });
  });

  it('answers an MFA sign-in with the challenge, and the code with a token, naming the real username', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves(mfaChallenge);
    cognito.on(AdminRespondToAuthChallengeCommand).resolves({ AuthenticationResult: tokens });
    const step = await provider.authenticate('ada@example.test', 'pw', context);
    expect(step).toEqual({ challenge: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });
    if (!('session' in step)) throw new Error('expected a challenge');
    expect(step.session).not.toContain('cognito-session');
    await expect(
      provider.respondToChallenge(
        { email: 'ada@example.test', challenge: 'SOFTWARE_TOKEN_MFA', session: step.session, code: '123456' },
        context,
      ),
    ).resolves.toEqual({ token: 'id-token', tokenType: 'Bearer', expiresIn: 3600 });
    expect(cognito.commandCalls(AdminRespondToAuthChallengeCommand)[0]?.args[0].input).toEqual({
      UserPoolId: 'pool-1',
      ClientId: 'client-1',
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'cognito-session',
      // Cognito refuses an alias here: the username it gave with the challenge.
      ChallengeResponses: { USERNAME: 'user_1', SOFTWARE_TOKEN_MFA_CODE: '123456' },
      ContextData: contextData,
    });
  });

  it('answers a new-password challenge with NEW_PASSWORD, and a further challenge with that', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: 'first',
      ChallengeParameters: { USER_ID_FOR_SRP: 'op_1' },
    });
    cognito.on(AdminRespondToAuthChallengeCommand).resolves(mfaChallenge);
    const step = await provider.authenticate('op@example.test', 'temporary');
    if (!('session' in step)) throw new Error('expected a challenge');
    expect(step.challenge).toBe('NEW_PASSWORD_REQUIRED');
    const next = await provider.respondToChallenge({
      email: 'op@example.test',
      challenge: 'NEW_PASSWORD_REQUIRED',
      session: step.session,
      newPassword: 'Correct-Horse-9',
    });
    expect(next).toEqual({ challenge: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });
    expect(
      cognito.commandCalls(AdminRespondToAuthChallengeCommand)[0]?.args[0].input.ChallengeResponses,
    ).toEqual({
      USERNAME: 'op_1',
      NEW_PASSWORD: 'Correct-Horse-9',
    });
  });

  it('refuses a challenge the API cannot answer with a clear 401', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({
      ChallengeName: 'CUSTOM_CHALLENGE',
      Session: 's',
      ChallengeParameters: { USERNAME: 'user_1' },
    });
    await expect(provider.authenticate('ada@example.test', 'pw')).rejects.toThrow(
      new UnauthorizedError('sign-in needs a step this API does not offer: CUSTOM_CHALLENGE'),
    );
  });

  it('says a wrong code is wrong, and an expired or forged session is expired, with 401s', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves(mfaChallenge);
    const step = await provider.authenticate('ada@example.test', 'pw');
    if (!('session' in step)) throw new Error('expected a challenge');
    const answer = {
      email: 'ada@example.test',
      challenge: 'SOFTWARE_TOKEN_MFA' as const,
      session: step.session,
      code: '000000',
    };
    cognito
      .on(AdminRespondToAuthChallengeCommand)
      .rejectsOnce(new CodeMismatchException({ message: 'Invalid code received for user', ...meta }))
      .rejectsOnce(
        new NotAuthorizedException({ message: 'Invalid session for the user, session is expired.', ...meta }),
      );
    await expect(provider.respondToChallenge(answer)).rejects.toThrow(
      new UnauthorizedError('the code is incorrect: sign in again for a new attempt'),
    );
    const expired = new UnauthorizedError(
      'the sign-in session has expired, was used already or is unknown: sign in again',
    );
    await expect(provider.respondToChallenge(answer)).rejects.toThrow(expired);
    await expect(
      provider.respondToChallenge({ ...answer, session: 'not-one-of-ours-at-all' }),
    ).rejects.toThrow(expired);
    expect(cognito.commandCalls(AdminRespondToAuthChallengeCommand)).toHaveLength(2);
  });

  it('enrols TOTP with the access token of a password step-up, used once and never returned', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({ AuthenticationResult: tokens });
    cognito.on(AssociateSoftwareTokenCommand).resolves({ SecretCode: 'JBSWY3DPEHPK3PXP' });
    cognito.on(VerifySoftwareTokenCommand).resolves({ Status: 'SUCCESS' });
    const enrolment = await provider.beginTotpEnrolment('ada@example.test', 'pw', context);
    expect(enrolment).toEqual({
      secretCode: 'JBSWY3DPEHPK3PXP',
      otpauthUri: expect.stringMatching(
        /^otpauth:\/\/totp\/Agent%20Platform%3Aada%40example\.test\?secret=JBSWY3DPEHPK3PXP&/,
      ),
    });
    expect(JSON.stringify(enrolment)).not.toContain('access-token');
    expect(cognito.commandCalls(AssociateSoftwareTokenCommand)[0]?.args[0].input).toEqual({
      AccessToken: 'access-token',
    });
    await provider.confirmTotpEnrolment('ada@example.test', 'pw', '123456', context);
    expect(cognito.commandCalls(VerifySoftwareTokenCommand)[0]?.args[0].input).toEqual({
      AccessToken: 'access-token',
      UserCode: '123456',
    });
    expect(cognito.commandCalls(SetUserMFAPreferenceCommand)[0]?.args[0].input).toEqual({
      AccessToken: 'access-token',
      SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
    });
    expect(cognito.commandCalls(AdminInitiateAuthCommand).map((c) => c.args[0].input.ContextData)).toEqual([
      contextData,
      contextData,
    ]);
  });

  it('refuses enrolment when TOTP is on already, or the pool offers no MFA, and a wrong code as a 400', async () => {
    cognito
      .on(AdminInitiateAuthCommand)
      .resolvesOnce(mfaChallenge)
      .resolves({ AuthenticationResult: tokens });
    await expect(provider.beginTotpEnrolment('ada@example.test', 'pw')).rejects.toThrow(
      new ConflictError('TOTP MFA is already enabled for this user'),
    );
    cognito
      .on(AssociateSoftwareTokenCommand)
      .rejects(new InvalidParameterException({ message: 'MFA is not enabled', ...meta }));
    await expect(provider.beginTotpEnrolment('ada@example.test', 'pw')).rejects.toThrow(ConflictError);
    cognito
      .on(VerifySoftwareTokenCommand)
      .rejects(new EnableSoftwareTokenMFAException({ message: 'Code mismatch', ...meta }));
    await expect(provider.confirmTotpEnrolment('ada@example.test', 'pw', '000000')).rejects.toThrow(
      ValidationError.forField('body.code', 'does not match the authenticator'),
    );
    expect(cognito.commandCalls(SetUserMFAPreferenceCommand)).toHaveLength(0);
  });

  it('turns the own TOTP off only after the code answers a password sign-in, with that sign-in’s access token', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves(mfaChallenge);
    cognito.on(AdminRespondToAuthChallengeCommand).resolves({ AuthenticationResult: tokens });
    await provider.disableTotp('ada@example.test', 'pw', '123456', context);
    expect(cognito.commandCalls(AdminInitiateAuthCommand)[0]?.args[0].input).toMatchObject({
      AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: 'ada@example.test', PASSWORD: 'pw' },
      ContextData: contextData,
    });
    expect(cognito.commandCalls(AdminRespondToAuthChallengeCommand)[0]?.args[0].input).toEqual({
      UserPoolId: 'pool-1',
      ClientId: 'client-1',
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'cognito-session',
      ChallengeResponses: { USERNAME: 'user_1', SOFTWARE_TOKEN_MFA_CODE: '123456' },
      ContextData: contextData,
    });
    expect(cognito.commandCalls(SetUserMFAPreferenceCommand)[0]?.args[0].input).toEqual({
      AccessToken: 'access-token',
      SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
    });
  });

  it('refuses to turn TOTP off for a wrong code (400 on body.code) or when it is not on (409), changing nothing', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves(mfaChallenge);
    cognito
      .on(AdminRespondToAuthChallengeCommand)
      .rejectsOnce(new CodeMismatchException({ message: 'Invalid code', ...meta }))
      .rejectsOnce(new ExpiredCodeException({ message: 'Expired', ...meta }));
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(provider.disableTotp('ada@example.test', 'pw', '000000')).rejects.toThrow(
        ValidationError.forField('body.code', 'does not match the authenticator'),
      );
    }
    cognito.on(AdminInitiateAuthCommand).resolves({ AuthenticationResult: tokens });
    await expect(provider.disableTotp('ada@example.test', 'pw', '123456')).rejects.toThrow(
      new ConflictError('TOTP MFA is not enabled for this user'),
    );
    cognito
      .on(AdminInitiateAuthCommand)
      .rejects(new NotAuthorizedException({ message: 'Incorrect username or password.', ...meta }));
    await expect(provider.disableTotp('ada@example.test', 'bad', '123456')).rejects.toThrow(
      new UnauthorizedError('email or password is incorrect'),
    );
    expect(cognito.commandCalls(SetUserMFAPreferenceCommand)).toHaveLength(0);
  });

  it('resets a user’s MFA as an admin (TOTP off), tolerating a user gone; a pool without MFA is a 409', async () => {
    await provider.resetMfa('ada@example.test');
    expect(cognito.commandCalls(AdminSetUserMFAPreferenceCommand)[0]?.args[0].input).toEqual({
      UserPoolId: 'pool-1',
      Username: 'ada@example.test',
      SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
    });
    cognito.reset();
    cognito
      .on(AdminSetUserMFAPreferenceCommand)
      .rejectsOnce(new UserNotFoundException({ message: 'gone', ...meta }))
      .rejectsOnce(new InvalidParameterException({ message: 'MFA is not enabled', ...meta }));
    await expect(provider.resetMfa('gone@example.test')).resolves.toBeUndefined();
    await expect(provider.resetMfa('ada@example.test')).rejects.toThrow(ConflictError);
  });

  it('tells whether TOTP is on from the user’s MFA settings', async () => {
    cognito
      .on(AdminGetUserCommand)
      .resolvesOnce({ Username: 'user_1', UserMFASettingList: ['SOFTWARE_TOKEN_MFA'] })
      .resolvesOnce({ Username: 'user_1' });
    await expect(provider.totpEnabled('ada@example.test')).resolves.toBe(true);
    await expect(provider.totpEnabled('ada@example.test')).resolves.toBe(false);
    expect(cognito.commandCalls(AdminGetUserCommand)[0]?.args[0].input).toEqual({
      UserPoolId: 'pool-1',
      Username: 'ada@example.test',
    });
  });

  it('deletes, tolerating a user already gone', async () => {
    cognito.on(AdminDeleteUserCommand).rejects(new UserNotFoundException({ message: 'gone', ...meta }));
    await expect(provider.deleteUser('gone@example.test')).resolves.toBeUndefined();
  });
});
