import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import {
  ForbiddenError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../domain/shared/errors';
import type { User } from '../domain/tenants/schemas';
import { expectedVersion, jsonBody, operatorFrom, principalFrom, signInContextFrom } from './request';

const USER = 'usr_01ARZ3NDEKTSV4RRFFQ69G5FAV';
const TENANT = 'ten_01ARZ3NDEKTSV4RRFFQ69G5FAV';

function event(partial: {
  claims?: Record<string, string | string[]>;
  body?: string;
  headers?: Record<string, string>;
}) {
  return {
    headers: partial.headers ?? {},
    body: partial.body,
    isBase64Encoded: false,
    requestContext: partial.claims ? { authorizer: { jwt: { claims: partial.claims, scopes: [] } } } : {},
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
}

describe('principalFrom', () => {
  const record = (overrides: Partial<User> = {}): User => ({
    id: USER,
    tenantId: TENANT,
    email: 'a@example.test',
    name: 'A',
    role: 'admin',
    status: 'active',
    grants: [{ permission: 'sms:send' }],
    locationIds: [],
    createdAt: '',
    updatedAt: '',
    version: 1,
    ...overrides,
  });
  const usersWith = (user: User | undefined) => {
    const reads: string[] = [];
    return {
      reads,
      getCurrent: async (tenantId: string, userId: string) => {
        reads.push(`${tenantId}/${userId}`);
        return user;
      },
    };
  };
  const claims = { 'cognito:username': USER, 'custom:tenantId': TENANT, 'cognito:groups': '[owner]' };

  it('takes the role, grants and locations from the record read now, not from the token', async () => {
    const users = usersWith(record({ role: 'member' }));
    const principal = await principalFrom(event({ claims }), users);
    expect(principal).toEqual({
      userId: USER,
      tenantId: TENANT,
      role: 'member',
      email: 'a@example.test',
      acting: { role: 'member', grants: [{ permission: 'sms:send' }], locationIds: [] },
    });
    expect(users.reads).toEqual([`${TENANT}/${USER}`]);
  });

  it('refuses a user who no longer exists with 401', async () => {
    await expect(principalFrom(event({ claims }), usersWith(undefined))).rejects.toThrow(/no longer exists/);
  });

  it('refuses a disabled user with 401', async () => {
    const refused = principalFrom(event({ claims }), usersWith(record({ status: 'disabled' })));
    await expect(refused).rejects.toThrow(UnauthorizedError);
    await expect(refused).rejects.toThrow(/disabled/);
  });

  it.each([
    ['no authorizer context', undefined],
    ['no tenant', { 'cognito:username': USER, 'cognito:groups': '[owner]' }],
    ['no user', { 'custom:tenantId': TENANT, 'cognito:groups': '[owner]' }],
    [
      'malformed tenant',
      { 'cognito:username': USER, 'custom:tenantId': 'T#other', 'cognito:groups': '[owner]' },
    ],
  ])('refuses %s with 401, without a read', async (_name, claims) => {
    const users = usersWith(record());
    await expect(principalFrom(event(claims ? { claims } : {}), users)).rejects.toThrow(UnauthorizedError);
    expect(users.reads).toEqual([]);
  });
});

describe('platform operators', () => {
  const operator = { 'cognito:username': 'op-1', 'cognito:groups': '[platform-operators]' };

  it('reads an operator from a token with the operators group and no tenant', () => {
    expect(operatorFrom(event({ claims: { ...operator, email: 'op@x.test' } }))).toEqual({
      kind: 'operator',
      userId: 'op-1',
      email: 'op@x.test',
    });
  });

  it.each([
    ['a tenant owner', { 'cognito:username': USER, 'custom:tenantId': TENANT, 'cognito:groups': '[owner]' }],
    ['an operator who also has a tenant', { ...operator, 'custom:tenantId': TENANT }],
    ['a token with no group', { 'cognito:username': USER }],
  ])('refuses %s on operator routes with 403', (_name, claims) => {
    expect(() => operatorFrom(event({ claims }))).toThrow(ForbiddenError);
  });

  it('refuses operators on tenant routes with 403, even with a tenant and a role beside', async () => {
    const users = { getCurrent: async () => undefined };
    await expect(principalFrom(event({ claims: operator }), users)).rejects.toThrow(ForbiddenError);
    await expect(
      principalFrom(
        event({
          claims: { ...operator, 'custom:tenantId': TENANT, 'cognito:groups': '[owner platform-operators]' },
        }),
        users,
      ),
    ).rejects.toThrow(ForbiddenError);
  });
});

describe('jsonBody', () => {
  const json = { 'content-type': 'application/json; charset=utf-8' };

  it('parses JSON bodies, including base64-encoded ones', () => {
    expect(jsonBody(event({ body: '{"a":1}', headers: json }), 1024)).toEqual({ a: 1 });
    const encoded = {
      ...event({ body: Buffer.from('{"b":2}').toString('base64'), headers: json }),
      isBase64Encoded: true,
    };
    expect(jsonBody(encoded, 1024)).toEqual({ b: 2 });
  });

  it('names each problem', () => {
    expect(() => jsonBody(event({ body: '{"a":', headers: json }), 1024)).toThrow(ValidationError);
    expect(() => jsonBody(event({ body: '{}', headers: { 'content-type': 'text/plain' } }), 1024)).toThrow(
      UnsupportedMediaTypeError,
    );
    expect(() => jsonBody(event({ body: `"${'x'.repeat(2000)}"`, headers: json }), 1024)).toThrow(
      PayloadTooLargeError,
    );
  });
});

describe('expectedVersion', () => {
  it.each([
    ['"3"', 3],
    ['W/"12"', 12],
    ['7', 7],
  ])('reads If-Match %s', (value, version) => {
    expect(expectedVersion(event({ headers: { 'if-match': value } }))).toBe(version);
  });

  it('is undefined without the header and a 400 for junk', () => {
    expect(expectedVersion(event({}))).toBeUndefined();
    expect(() => expectedVersion(event({ headers: { 'if-match': '*' } }))).toThrow(ValidationError);
  });
});

describe('signInContextFrom', () => {
  const login = {
    headers: {
      'user-agent': 'curl/8',
      authorization: 'Bearer t',
      cookie: 'a=b',
      'x-api-key': 'k',
      'x-amz-security-token': 's',
      'X-Origin-Verify': 'the-distribution-secret',
      'x-viewer-address': '192.0.2.44',
    },
    rawPath: '/v1/auth/login',
    requestContext: { domainName: 'api.example.test', http: { sourceIp: '203.0.113.9' } },
  } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;

  it("is the caller's address and request, without a header that carries credentials or CloudFront's proof", () => {
    expect(signInContextFrom(login, undefined, '192.0.2.44')).toEqual({
      ipAddress: '192.0.2.44',
      serverName: 'api.example.test',
      serverPath: '/v1/auth/login',
      headers: { 'user-agent': 'curl/8', 'x-viewer-address': '192.0.2.44' },
    });
    expect(signInContextFrom(login, 'fp', '203.0.113.9').encodedData).toBe('fp');
  });
});
