import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminSetUserPasswordCommand,
  AdminUserGlobalSignOutCommand,
  AliasExistsException,
  type CognitoIdentityProviderClient,
  InitiateAuthCommand,
  InvalidPasswordException,
  NotAuthorizedException,
  UserNotFoundException,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { ConflictError, UnauthorizedError, ValidationError } from '../../domain/shared/errors';
import type { IdentityProvider, NewIdentity } from '../../domain/tenants/ports';
import type { Role } from '../../domain/tenants/rbac';
import type { AuthToken } from '../../domain/tenants/schemas';

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

  async authenticate(email: string, password: string): Promise<AuthToken> {
    try {
      const { AuthenticationResult } = await this.client.send(
        new InitiateAuthCommand({
          ClientId: this.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: password },
        }),
      );
      if (!AuthenticationResult?.IdToken) throw new UnauthorizedError('sign-in needs a further challenge');
      return {
        token: AuthenticationResult.IdToken,
        tokenType: 'Bearer',
        expiresIn: AuthenticationResult.ExpiresIn ?? 3600,
      };
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
