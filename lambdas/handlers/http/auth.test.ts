import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminInitiateAuthCommand,
  AdminRespondToAuthChallengeCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoEndpoint, freshTable } from '../../../test/support/dynamodb';

/**
 * The auth Lambda as API Gateway invokes it, with Cognito mocked: the sign-in carries the caller's
 * address and request to threat protection, and credentials never go with them.
 */
const cognito = mockClient(CognitoIdentityProviderClient);
const secrets = mockClient(SecretsManagerClient);
const ORIGIN_VERIFY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:OriginVerify-AbCdEf';
const ORIGIN_VERIFY = 'k2Jd8sQpL0vXw4ZyT7nB1cR5mF9gH3aE6uV0iO2pS8dK4lJ7';
let handler: typeof import('./auth').handler;

const ENV = {
  TABLE_NAME: '',
  DYNAMODB_ENDPOINT: '',
  IDENTITY_PROVIDER: 'cognito',
  USER_POOL_ID: 'pool-1',
  USER_POOL_CLIENT_ID: 'client-1',
  // As where the console is hosted: CloudFront proves itself with this secret.
  ORIGIN_VERIFY_SECRET_ARN: ORIGIN_VERIFY_ARN,
};
const saved = Object.fromEntries(Object.keys(ENV).map((name) => [name, process.env[name]]));

beforeAll(async () => {
  const table = await freshTable();
  Object.assign(process.env, { ...ENV, TABLE_NAME: table.tableName, DYNAMODB_ENDPOINT: dynamoEndpoint() });
  ({ handler } = require('./auth') as typeof import('./auth'));
});
// Test files share the worker's environment: leave it as found.
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
beforeEach(() => {
  cognito.reset();
  secrets.reset();
  secrets
    .on(GetSecretValueCommand, { SecretId: ORIGIN_VERIFY_ARN })
    .resolves({ SecretString: ORIGIN_VERIFY });
});

function httpEvent(
  path: string,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): APIGatewayProxyEventV2WithJWTAuthorizer {
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Mozilla/5.0 (test)',
      'x-forwarded-for': '198.51.100.23',
      authorization: 'Bearer someone-elses-token',
      cookie: 'session=secret',
      host: 'api.example.test',
      ...extraHeaders,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method: 'POST',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.23',
        userAgent: 'Mozilla/5.0 (test)',
      },
      requestId: 'req-1',
      routeKey: `POST ${path}`,
      stage: '$default',
      time: '06/Dec/2026:03:00:00 +0000',
      timeEpoch: 1796526000000,
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: {}, scopes: [] } },
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}

const context = { functionName: 'auth', awsRequestId: 'req-1' } as Context;

describe('auth Lambda', () => {
  it("passes the caller's address, request and device data to Cognito, never their credentials", async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'cognito-session',
      ChallengeParameters: { USER_ID_FOR_SRP: 'user_1' },
    });
    const result = await handler(
      httpEvent('/v1/auth/login', {
        email: 'ada@example.test',
        password: 'Correct-Horse-9',
        userContextData: 'device-fingerprint',
      }),
      context,
    );
    expect(result.statusCode).toBe(200);
    const body = JSON.parse(String(result.body));
    expect(body).toEqual({ challenge: 'SOFTWARE_TOKEN_MFA', session: expect.any(String) });
    expect(body.token).toBeUndefined();

    const sent = cognito.commandCalls(AdminInitiateAuthCommand)[0]?.args[0].input;
    expect(sent?.ContextData).toEqual({
      IpAddress: '198.51.100.23',
      ServerName: 'api.example.test',
      ServerPath: '/v1/auth/login',
      HttpHeaders: expect.arrayContaining([
        { headerName: 'user-agent', headerValue: 'Mozilla/5.0 (test)' },
        { headerName: 'x-forwarded-for', headerValue: '198.51.100.23' },
      ]),
      EncodedData: 'device-fingerprint',
    });
    const headerNames = sent?.ContextData?.HttpHeaders?.map((h) => h.headerName);
    expect(headerNames).not.toContain('authorization');
    expect(headerNames).not.toContain('cookie');
  });

  it("signs a newly registered owner in with the caller's context too", async () => {
    cognito.on(AdminCreateUserCommand).resolves({});
    cognito.on(AdminSetUserPasswordCommand).resolves({});
    cognito.on(AdminAddUserToGroupCommand).resolves({});
    cognito
      .on(AdminInitiateAuthCommand)
      .resolves({ AuthenticationResult: { IdToken: 'id-token', ExpiresIn: 3600 } });
    const result = await handler(
      httpEvent('/v1/auth/register', {
        tenant: { name: 'Context Clinic' },
        owner: { email: 'owner@context.test', password: 'Correct-Horse-9', name: 'Owner' },
      }),
      context,
    );
    expect(result.statusCode).toBe(201);
    const sent = cognito.commandCalls(AdminInitiateAuthCommand)[0]?.args[0].input;
    expect(sent?.ContextData?.IpAddress).toBe('198.51.100.23');
    expect(sent?.ContextData?.ServerPath).toBe('/v1/auth/register');
  });

  it('answers the challenge with the context too, and a code Cognito refuses with a 401 and no token', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'cognito-session',
      ChallengeParameters: { USER_ID_FOR_SRP: 'user_1' },
    });
    const { CodeMismatchException } = await import('@aws-sdk/client-cognito-identity-provider');
    cognito
      .on(AdminRespondToAuthChallengeCommand)
      .rejects(new CodeMismatchException({ message: 'Invalid code received for user', $metadata: {} }));
    const login = await handler(
      httpEvent('/v1/auth/login', { email: 'ada@example.test', password: 'Correct-Horse-9' }),
      context,
    );
    const { session } = JSON.parse(String(login.body));
    const answer = await handler(
      httpEvent('/v1/auth/login/challenge', {
        email: 'ada@example.test',
        challenge: 'SOFTWARE_TOKEN_MFA',
        session,
        code: '123456',
      }),
      context,
    );
    expect(answer.statusCode).toBe(401);
    expect(JSON.parse(String(answer.body)).error.message).toBe(
      'the code is incorrect: sign in again for a new attempt',
    );
    const sent = cognito.commandCalls(AdminRespondToAuthChallengeCommand)[0]?.args[0].input;
    expect(sent?.ContextData?.IpAddress).toBe('198.51.100.23');
    expect(sent?.ContextData?.ServerPath).toBe('/v1/auth/login/challenge');
  });

  it('passes the viewer’s address when the sign-in came through the console’s CloudFront, and not its proof', async () => {
    cognito.on(AdminInitiateAuthCommand).resolves({
      ChallengeName: 'SOFTWARE_TOKEN_MFA',
      Session: 'cognito-session',
      ChallengeParameters: { USER_ID_FOR_SRP: 'user_1' },
    });
    const login = { email: 'ada@example.test', password: 'Correct-Horse-9' };
    // sourceIp stays 198.51.100.23: here, the edge server that connected to API Gateway.
    const viaCloudFront = { 'x-origin-verify': ORIGIN_VERIFY, 'x-viewer-address': '2001:db8::44' };
    expect((await handler(httpEvent('/v1/auth/login', login, viaCloudFront), context)).statusCode).toBe(200);
    // Someone calling the execute-api URL directly, claiming an address without the secret.
    const forged = { 'x-origin-verify': 'guessed', 'x-viewer-address': '192.0.2.1' };
    expect((await handler(httpEvent('/v1/auth/login', login, forged), context)).statusCode).toBe(200);

    const [edge, direct] = cognito.commandCalls(AdminInitiateAuthCommand).map((c) => c.args[0].input);
    expect(edge?.ContextData?.IpAddress).toBe('2001:db8::44');
    expect(direct?.ContextData?.IpAddress).toBe('198.51.100.23');
    const sentHeaders = JSON.stringify([edge?.ContextData?.HttpHeaders, direct?.ContextData?.HttpHeaders]);
    expect(sentHeaders).not.toContain(ORIGIN_VERIFY);
    expect(sentHeaders).not.toContain('x-origin-verify');
  });
});
