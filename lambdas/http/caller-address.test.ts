import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { callerAddressResolver, parseViewerAddress } from './caller-address';

/**
 * The caller's address behind the console's CloudFront: events as API Gateway (HTTP API, payload
 * 2.0) delivers them. CloudFront connects from an edge address (sourceIp), adds `x-origin-verify`
 * (the secret) and its function's `x-viewer-address`; a direct caller of the execute-api URL can
 * send any headers it likes.
 */
const SECRET = 'k2Jd8sQpL0vXw4ZyT7nB1cR5mF9gH3aE6uV0iO2pS8dK4lJ7';
const EDGE = '130.176.189.10';

function httpEvent(headers: Record<string, string>): APIGatewayProxyEventV2WithJWTAuthorizer {
  return {
    version: '2.0',
    routeKey: 'POST /v1/auth/login',
    rawPath: '/v1/auth/login',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'content-length': '64',
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'Amazon CloudFront',
      via: '2.0 0123456789abcdef.cloudfront.net (CloudFront)',
      'x-amz-cf-id': 'p1dP0A6p1GNRFmG3pRH8hEb5jF0x3tz8EtS2mAJOEHLLw',
      'x-amzn-trace-id': 'Root=1-675290a0-0f1e2d3c4b5a69788796a5b4',
      'x-forwarded-for': `198.51.100.200, ${EDGE}`,
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: {
        method: 'POST',
        path: '/v1/auth/login',
        protocol: 'HTTP/1.1',
        sourceIp: EDGE,
        userAgent: 'Amazon CloudFront',
      },
      requestId: 'CmU2bh8fliAEJqQ=',
      routeKey: 'POST /v1/auth/login',
      stage: '$default',
      time: '06/Dec/2026:10:00:00 +0000',
      timeEpoch: 1796551200000,
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: {}, scopes: [] } },
    },
    body: '{"email":"ada@example.test","password":"Correct-Horse-9"}',
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}

function secretReader(value = SECRET) {
  const read = jest.fn(async () => value);
  return { read, resolve: callerAddressResolver(read) };
}

describe('the caller address', () => {
  it.each([
    ['a bare IPv4 address (what the function writes)', '192.0.2.44', '192.0.2.44'],
    ['a bare IPv6 address (what the function writes)', '2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334'],
    ['IPv4 with a port', '192.0.2.44:46532', '192.0.2.44'],
    ['bracketed IPv6 with a port', '[2001:db8::1]:46532', '2001:db8::1'],
    ['the IPv6 loopback, bracketed with a port', '[::1]:8443', '::1'],
  ])('is the viewer’s with the right secret and %s', async (_, header, viewer) => {
    const { read, resolve } = secretReader();
    expect(await resolve(httpEvent({ 'x-origin-verify': SECRET, 'x-viewer-address': header }))).toBe(viewer);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('reads the headers in any case, as API Gateway may pass them', async () => {
    const { resolve } = secretReader();
    expect(await resolve(httpEvent({ 'X-Origin-Verify': SECRET, 'X-Viewer-Address': '192.0.2.44' }))).toBe(
      '192.0.2.44',
    );
  });

  it.each([
    ['a wrong secret', 'not-the-secret'],
    ['the secret with one character changed', `${SECRET.slice(0, -1)}X`],
    ['the secret and more', `${SECRET}x`],
    ['a prefix of the secret', SECRET.slice(0, 20)],
  ])('is sourceIp with %s (someone calling the execute-api URL directly)', async (_, proof) => {
    const { resolve } = secretReader();
    expect(await resolve(httpEvent({ 'x-origin-verify': proof, 'x-viewer-address': '192.0.2.44' }))).toBe(
      EDGE,
    );
  });

  it('is sourceIp without the proof, and then never reads the secret', async () => {
    const { read, resolve } = secretReader();
    expect(await resolve(httpEvent({ 'x-viewer-address': '192.0.2.44' }))).toBe(EDGE);
    expect(await resolve(httpEvent({ 'x-origin-verify': '', 'x-viewer-address': '192.0.2.44' }))).toBe(EDGE);
    expect(await resolve(httpEvent({}))).toBe(EDGE);
    expect(read).not.toHaveBeenCalled();
  });

  it.each([
    ['empty', ''],
    ['a list', '192.0.2.44, 198.51.100.7'],
    ['a host name', 'evil.example'],
    ['an out-of-range IPv4', '192.0.2.300'],
    ['a port out of range', '192.0.2.44:70000'],
    ['port zero', '[2001:db8::1]:0'],
    ['an IPv4 in brackets', '[192.0.2.44]:443'],
    ['a zone id', 'fe80::1%eth0'],
    ['an unclosed bracket', '[2001:db8::1:443'],
    ['script', '<script>alert(1)</script>'],
    ['very long', `${'1'.repeat(100)}`],
  ])('is sourceIp when the viewer address is malformed (%s), and never throws', async (_, header) => {
    const { read, resolve } = secretReader();
    await expect(resolve(httpEvent({ 'x-origin-verify': SECRET, 'x-viewer-address': header }))).resolves.toBe(
      EDGE,
    );
    expect(read).not.toHaveBeenCalled();
  });

  it('is sourceIp with the proof but no viewer address', async () => {
    const { resolve } = secretReader();
    expect(await resolve(httpEvent({ 'x-origin-verify': SECRET }))).toBe(EDGE);
  });

  it('is sourceIp when no secret is configured (local mode, no console), whatever the headers say', async () => {
    const resolve = callerAddressResolver(undefined);
    expect(await resolve(httpEvent({ 'x-origin-verify': SECRET, 'x-viewer-address': '192.0.2.44' }))).toBe(
      EDGE,
    );
  });

  it('is sourceIp when the secret cannot be read, and says so without failing the request', async () => {
    const heard: unknown[] = [];
    const resolve = callerAddressResolver(
      async () => {
        throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      },
      (error) => heard.push(error),
    );
    await expect(
      resolve(httpEvent({ 'x-origin-verify': SECRET, 'x-viewer-address': '192.0.2.44' })),
    ).resolves.toBe(EDGE);
    expect(heard).toHaveLength(1);
  });
});

describe('parseViewerAddress', () => {
  it('drops only the port and keeps every group of an IPv6 address', () => {
    expect(parseViewerAddress('[2001:db8:85a3::8a2e:370:7334]:46532')).toBe('2001:db8:85a3::8a2e:370:7334');
    expect(parseViewerAddress(' 198.51.100.10:46532 ')).toBe('198.51.100.10');
    expect(parseViewerAddress(undefined)).toBeUndefined();
  });
});
