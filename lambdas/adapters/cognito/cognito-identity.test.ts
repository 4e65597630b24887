import {
  AdminDeleteUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminUserGlobalSignOutCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  NotAuthorizedException,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { UnauthorizedError } from '../../domain/shared/errors';
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
      .on(InitiateAuthCommand)
      .rejectsOnce(new NotAuthorizedException({ message: 'User is disabled.', ...meta }))
      .rejectsOnce(new NotAuthorizedException({ message: 'Incorrect username or password.', ...meta }));
    await expect(provider.authenticate('ada@example.test', 'pw')).rejects.toThrow(
      new UnauthorizedError('this user is disabled'),
    );
    await expect(provider.authenticate('ada@example.test', 'pw')).rejects.toThrow(
      new UnauthorizedError('email or password is incorrect'),
    );
  });

  it('deletes, tolerating a user already gone', async () => {
    cognito.on(AdminDeleteUserCommand).rejects(new UserNotFoundException({ message: 'gone', ...meta }));
    await expect(provider.deleteUser('gone@example.test')).resolves.toBeUndefined();
  });
});
