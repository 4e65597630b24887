import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  type AdminInitiateAuthCommandOutput,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserMFAPreferenceCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  AliasExistsException,
  AssociateSoftwareTokenCommand,
  CodeMismatchException,
  type CognitoIdentityProviderClient,
  type ContextDataType,
  EnableSoftwareTokenMFAException,
  ExpiredCodeException,
  InvalidParameterException,
  InvalidPasswordException,
  NotAuthorizedException,
  SetUserMFAPreferenceCommand,
  SoftwareTokenMFANotFoundException,
  UserNotFoundException,
  UsernameExistsException,
  VerifySoftwareTokenCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { ConflictError, UnauthorizedError, ValidationError } from '../../domain/shared/errors';
import type {
  ChallengeAnswer,
  IdentityProvider,
  NewIdentity,
  SignInContext,
} from '../../domain/tenants/ports';
import type { Role } from '../../domain/tenants/rbac';
import {
  SIGN_IN_CHALLENGES,
  type SignInChallengeName,
  type SignInStep,
  type TotpEnrolment,
} from '../../domain/tenants/schemas';
import { otpauthUri } from '../../domain/tenants/sign-in';

/**
 * What we hand the client as `session`: Cognito's session and the user's real username, which
 * the answer must name (Cognito refuses an alias there). Tampering gains nothing: Cognito binds
 * its session to the user.
 */
interface PackedSession {
  readonly u: string;
  readonly s: string;
}

const packSession = (session: PackedSession) => Buffer.from(JSON.stringify(session)).toString('base64url');

function unpackSession(packed: string): PackedSession {
  try {
    const value = JSON.parse(Buffer.from(packed, 'base64url').toString('utf8')) as Partial<PackedSession>;
    if (typeof value.u === 'string' && typeof value.s === 'string') return { u: value.u, s: value.s };
  } catch {
    // fall through: not one of ours
  }
  throw sessionExpired();
}

const sessionExpired = () =>
  new UnauthorizedError('the sign-in session has expired, was used already or is unknown: sign in again');

const CHALLENGE_RESPONSE_KEY: Record<SignInChallengeName, string> = {
  SOFTWARE_TOKEN_MFA: 'SOFTWARE_TOKEN_MFA_CODE',
  SMS_MFA: 'SMS_MFA_CODE',
  NEW_PASSWORD_REQUIRED: 'NEW_PASSWORD',
};

/** Cognito's ContextData: what threat protection judges the sign-in by. */
function contextData(context: SignInContext | undefined): ContextDataType | undefined {
  if (!context) return undefined;
  return {
    IpAddress: context.ipAddress,
    ServerName: context.serverName,
    ServerPath: context.serverPath,
    HttpHeaders: Object.entries(context.headers).map(([headerName, headerValue]) => ({
      headerName,
      headerValue,
    })),
    ...(context.encodedData ? { EncodedData: context.encodedData } : {}),
  };
}

/**
 * Cognito user pool as the identity provider. The Cognito username is our user id and the
 * email is a sign-in alias; `custom:tenantId` is set here by an admin call and is not writable
 * by the app client, so a user can never move themselves to another tenant.
 */
export class CognitoIdentityProvider implements IdentityProvider {
  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
    private readonly clientId: string,
  ) {}

  async createUser(identity: NewIdentity): Promise<void> {
    try {
      await this.client.send(
        new AdminCreateUserCommand({
          UserPoolId: this.userPoolId,
          Username: identity.userId,
          MessageAction: 'SUPPRESS',
          UserAttributes: [
            { Name: 'email', Value: identity.email },
            { Name: 'email_verified', Value: 'true' },
            { Name: 'custom:tenantId', Value: identity.tenantId },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof UsernameExistsException || error instanceof AliasExistsException) {
        throw new ConflictError('email: is already registered', { field: 'email' });
      }
      throw error;
    }
    try {
      await this.client.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: this.userPoolId,
          Username: identity.userId,
          Password: identity.password,
          Permanent: true,
        }),
      );
      await this.client.send(
        new AdminAddUserToGroupCommand({
          UserPoolId: this.userPoolId,
          Username: identity.userId,
          GroupName: identity.role,
        }),
      );
    } catch (error) {
      await this.client.send(
        new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: identity.userId }),
      );
      if (error instanceof InvalidPasswordException) {
        throw ValidationError.forField('password', error.message);
      }
      throw error;
    }
  }

  /** ADMIN_USER_PASSWORD_AUTH: the only flow that lets us pass the caller's context on. */
  private async initiate(email: string, password: string, context?: SignInContext) {
    try {
      return await this.client.send(
        new AdminInitiateAuthCommand({
          UserPoolId: this.userPoolId,
          ClientId: this.clientId,
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: password },
          ContextData: contextData(context),
        }),
      );
    } catch (error) {
      // Cognito checks the password before it reports a disabled user, so this reveals nothing new.
      if (error instanceof NotAuthorizedException && /disabled/i.test(error.message)) {
        throw new UnauthorizedError('this user is disabled');
      }
      if (error instanceof NotAuthorizedException || error instanceof UserNotFoundException) {
        throw new UnauthorizedError('email or password is incorrect');
      }
      throw error;
    }
  }

  private step(
    output: Pick<
      AdminInitiateAuthCommandOutput,
      'AuthenticationResult' | 'ChallengeName' | 'ChallengeParameters' | 'Session'
    >,
  ): SignInStep {
    const { AuthenticationResult, ChallengeName, ChallengeParameters, Session } = output;
    if (AuthenticationResult?.IdToken) {
      return {
        token: AuthenticationResult.IdToken,
        tokenType: 'Bearer',
        expiresIn: AuthenticationResult.ExpiresIn ?? 3600,
      };
    }
    const challenge = SIGN_IN_CHALLENGES.find((name) => name === ChallengeName);
    const username = ChallengeParameters?.USER_ID_FOR_SRP ?? ChallengeParameters?.USERNAME;
    if (!challenge || !Session || !username) {
      throw new UnauthorizedError(
        `sign-in needs a step this API does not offer: ${ChallengeName ?? 'unknown'}`,
      );
    }
    return { challenge, session: packSession({ u: username, s: Session }) };
  }

  async authenticate(email: string, password: string, context?: SignInContext): Promise<SignInStep> {
    return this.step(await this.initiate(email, password, context));
  }

  async respondToChallenge(answer: ChallengeAnswer, context?: SignInContext): Promise<SignInStep> {
    const { u: username, s: session } = unpackSession(answer.session);
    const value = answer.challenge === 'NEW_PASSWORD_REQUIRED' ? answer.newPassword : answer.code;
    if (value === undefined) {
      const field = answer.challenge === 'NEW_PASSWORD_REQUIRED' ? 'body.newPassword' : 'body.code';
      throw ValidationError.forField(field, `is required to answer ${answer.challenge}`);
    }
    try {
      return this.step(
        await this.client.send(
          new AdminRespondToAuthChallengeCommand({
            UserPoolId: this.userPoolId,
            ClientId: this.clientId,
            ChallengeName: answer.challenge,
            Session: session,
            ChallengeResponses: { USERNAME: username, [CHALLENGE_RESPONSE_KEY[answer.challenge]]: value },
            ContextData: contextData(context),
          }),
        ),
      );
    } catch (error) {
      if (error instanceof CodeMismatchException) {
        throw new UnauthorizedError('the code is incorrect: sign in again for a new attempt');
      }
      if (error instanceof ExpiredCodeException) {
        throw new UnauthorizedError('the code has expired: sign in again');
      }
      if (error instanceof InvalidPasswordException) {
        throw ValidationError.forField('body.newPassword', error.message);
      }
      if (error instanceof NotAuthorizedException || error instanceof UserNotFoundException) {
        throw sessionExpired();
      }
      throw error;
    }
  }

  /**
   * The API's tokens are ID tokens, and Cognito changes MFA settings only with an access token;
   * so the user proves it is them with their password, and the access token this sign-in yields
   * is used once, here, and never leaves the function.
   */
  private async accessTokenFor(email: string, password: string, context?: SignInContext): Promise<string> {
    const output = await this.initiate(email, password, context);
    if (output.ChallengeName === 'SOFTWARE_TOKEN_MFA') {
      throw new ConflictError('TOTP MFA is already enabled for this user');
    }
    const accessToken = output.AuthenticationResult?.AccessToken;
    if (!accessToken) {
      throw new UnauthorizedError(`sign-in needs a further step first: ${output.ChallengeName ?? 'unknown'}`);
    }
    return accessToken;
  }

  async beginTotpEnrolment(email: string, password: string, context?: SignInContext): Promise<TotpEnrolment> {
    const accessToken = await this.accessTokenFor(email, password, context);
    try {
      const { SecretCode } = await this.client.send(
        new AssociateSoftwareTokenCommand({ AccessToken: accessToken }),
      );
      if (!SecretCode) throw new Error('Cognito returned no TOTP secret');
      return { secretCode: SecretCode, otpauthUri: otpauthUri(email, SecretCode) };
    } catch (error) {
      throw mfaNotOffered(error);
    }
  }

  async confirmTotpEnrolment(
    email: string,
    password: string,
    code: string,
    context?: SignInContext,
  ): Promise<void> {
    const accessToken = await this.accessTokenFor(email, password, context);
    try {
      const { Status } = await this.client.send(
        new VerifySoftwareTokenCommand({ AccessToken: accessToken, UserCode: code }),
      );
      if (Status !== 'SUCCESS')
        throw ValidationError.forField('body.code', 'does not match the authenticator');
      await this.client.send(
        new SetUserMFAPreferenceCommand({
          AccessToken: accessToken,
          SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
        }),
      );
    } catch (error) {
      if (error instanceof CodeMismatchException || error instanceof EnableSoftwareTokenMFAException) {
        throw ValidationError.forField('body.code', 'does not match the authenticator');
      }
      if (error instanceof SoftwareTokenMFANotFoundException) {
        throw new ConflictError('no TOTP enrolment is pending: start one with POST /v1/auth/mfa/totp');
      }
      throw mfaNotOffered(error);
    }
  }

  async totpEnabled(email: string): Promise<boolean> {
    const { UserMFASettingList = [] } = await this.client.send(
      new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: email }),
    );
    return UserMFASettingList.includes('SOFTWARE_TOKEN_MFA');
  }

  /**
   * Cognito checks a TOTP code only inside a sign-in: so the password starts one, the code answers
   * its SOFTWARE_TOKEN_MFA challenge, and the access token that yields (used here once, never
   * returned) turns TOTP off. Enrolling again associates a new secret: the old one is dead.
   */
  async disableTotp(email: string, password: string, code: string, context?: SignInContext): Promise<void> {
    const started = await this.initiate(email, password, context);
    if (started.ChallengeName !== 'SOFTWARE_TOKEN_MFA') {
      if (started.AuthenticationResult) throw new ConflictError('TOTP MFA is not enabled for this user');
      throw new UnauthorizedError(
        `sign-in needs a further step first: ${started.ChallengeName ?? 'unknown'}`,
      );
    }
    const username = started.ChallengeParameters?.USER_ID_FOR_SRP ?? started.ChallengeParameters?.USERNAME;
    let accessToken: string | undefined;
    try {
      const answered = await this.client.send(
        new AdminRespondToAuthChallengeCommand({
          UserPoolId: this.userPoolId,
          ClientId: this.clientId,
          ChallengeName: 'SOFTWARE_TOKEN_MFA',
          Session: started.Session,
          ChallengeResponses: { USERNAME: username ?? email, SOFTWARE_TOKEN_MFA_CODE: code },
          ContextData: contextData(context),
        }),
      );
      accessToken = answered.AuthenticationResult?.AccessToken;
    } catch (error) {
      if (error instanceof CodeMismatchException || error instanceof ExpiredCodeException) {
        throw ValidationError.forField('body.code', 'does not match the authenticator');
      }
      throw error;
    }
    if (!accessToken) throw new UnauthorizedError('sign-in needs a further step first');
    await this.client.send(
      new SetUserMFAPreferenceCommand({
        AccessToken: accessToken,
        SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
      }),
    );
  }

  /**
   * TOTP off for the user: sign-in asks for the password alone. The old secret stays associated
   * in Cognito but only an access token could switch it on again, and the API's enrolment always
   * associates a new secret first (AssociateSoftwareToken), which replaces it.
   */
  async resetMfa(email: string): Promise<void> {
    try {
      await this.client.send(
        new AdminSetUserMFAPreferenceCommand({
          UserPoolId: this.userPoolId,
          Username: email,
          SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false },
        }),
      );
    } catch (error) {
      if (error instanceof UserNotFoundException) return;
      throw mfaNotOffered(error);
    }
  }

  async setRole(email: string, role: Role): Promise<void> {
    const { Groups = [] } = await this.client.send(
      new AdminListGroupsForUserCommand({ UserPoolId: this.userPoolId, Username: email }),
    );
    await this.client.send(
      new AdminAddUserToGroupCommand({ UserPoolId: this.userPoolId, Username: email, GroupName: role }),
    );
    for (const group of Groups) {
      if (group.GroupName && group.GroupName !== role) {
        await this.client.send(
          new AdminRemoveUserFromGroupCommand({
            UserPoolId: this.userPoolId,
            Username: email,
            GroupName: group.GroupName,
          }),
        );
      }
    }
  }

  /**
   * Every session ended (refresh tokens revoked), then sign-in refused. A sign-in between the two
   * gets tokens the API refuses (the record already says disabled) and a refresh token Cognito
   * will not honour for a disabled user.
   */
  async disableUser(email: string): Promise<void> {
    try {
      await this.client.send(
        new AdminUserGlobalSignOutCommand({ UserPoolId: this.userPoolId, Username: email }),
      );
      await this.client.send(new AdminDisableUserCommand({ UserPoolId: this.userPoolId, Username: email }));
    } catch (error) {
      if (!(error instanceof UserNotFoundException)) throw error;
    }
  }

  async enableUser(email: string): Promise<void> {
    await this.client.send(new AdminEnableUserCommand({ UserPoolId: this.userPoolId, Username: email }));
  }

  async deleteUser(email: string): Promise<void> {
    try {
      await this.client.send(new AdminDeleteUserCommand({ UserPoolId: this.userPoolId, Username: email }));
    } catch (error) {
      if (!(error instanceof UserNotFoundException)) throw error;
    }
  }
}

/** A pool with MFA off refuses TOTP settings with InvalidParameterException. */
function mfaNotOffered(error: unknown): unknown {
  if (error instanceof InvalidParameterException) {
    return new ConflictError('this environment does not offer MFA (cognito.mfa is off)');
  }
  return error;
}
