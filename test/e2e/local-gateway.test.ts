/**
 * Local mode's gateway answers like API Gateway's HTTP API where a request never reaches a Lambda:
 * malformed targets, oversize bodies, tokens the JWT authorizer would refuse. Over real sockets.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { decodeJwt, importJWK, SignJWT } from 'jose';
import { type ApiClient, registerTenant, startApi } from '../support/api';

let api: ApiClient;
let token: string;

beforeAll(async () => {
  api = await startApi();
  ({ token } = await registerTenant(api));
});
afterAll(() => api.platform.stop());

/** One request with the target sent exactly as written (no URL normalisation on the way). */
function rawGet(target: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(api.platform.url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(
      { host: hostname, port: Number(port), path: target, method: 'GET', headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('a target with a broken percent-escape', () => {
  it.each([
    ['in a path parameter', '/v1/agents/%E0%A4%A'],
    ['as a lone %', '/v1/agents/agt_%'],
    ['in a query value', '/v1/agents?namePrefix=%E0%A4%A'],
    ['in a query name', '/v1/agents?%ZZ=1'],
  ])('%s is a 400 from the gateway', async (_name, target) => {
    const response = await rawGet(target, { authorization: `Bearer ${token}` });
    expect(response).toEqual({ status: 400, body: JSON.stringify({ message: 'Bad Request' }) });
  });

  it('is told apart from a well-encoded one', async () => {
    const response = await rawGet('/v1/agents?namePrefix=%C3%A9t%C3%A9', {
      authorization: `Bearer ${token}`,
    });
    expect(response.status).toBe(200);
  });
});

describe('a body over the gateway’s 10 MB', () => {
  it('is answered 413 with Connection: close, and the connection is closed at once', async () => {
    const { hostname, port } = new URL(api.platform.url);
    const size = 11 * 1024 * 1024;
    const outcome = await new Promise<{ text: string; closedAfterMs: number | undefined }>((resolve) => {
      const socket = connect(Number(port), hostname);
      const started = Date.now();
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
      });
      socket.on('error', () => undefined);
      // Before the fix the connection stayed open until the keep-alive timeout (5 s) and the next
      // request on it was never answered.
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, closedAfterMs: undefined });
      }, 3000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text, closedAfterMs: Date.now() - started });
      });
      socket.write(
        `POST /v1/agents HTTP/1.1\r\nHost: local\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
      );
      socket.write(Buffer.alloc(size, 0x20));
      // A second request on the same connection: it must not be left hanging.
      socket.write('GET /v1/health HTTP/1.1\r\nHost: local\r\n\r\n');
    });
    expect(outcome.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(outcome.text.toLowerCase()).toContain('connection: close');
    expect(outcome.text).toContain('Request Entity Too Large');
    expect(outcome.closedAfterMs).toBeDefined();
  });
});

describe('a token', () => {
  /** A token signed by the local issuer with the claims of `token`, changed by `edit`. */
  async function reissued(edit: (claims: Record<string, unknown>) => Record<string, unknown>) {
    const { exp: _exp, iat: _iat, ...claims } = decodeJwt(token);
    const jwk = JSON.parse(process.env.LOCAL_SIGNING_JWK as string);
    const key = await importJWK(jwk, 'RS256');
    return new SignJWT(edit(claims))
      .setProtectedHeader({ alg: 'RS256', ...(jwk.kid ? { kid: jwk.kid } : {}) })
      .setIssuedAt()
      .sign(key);
  }

  it('without an expiry is refused, however well signed', async () => {
    const forever = await reissued((claims) => claims);
    const response = await rawGet('/v1/agents', { authorization: `Bearer ${forever}` });
    expect(response.status).toBe(401);
  });

  it('with the same claims and an expiry is accepted (the control)', async () => {
    const expiring = await reissued((claims) => ({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 }));
    const response = await rawGet('/v1/agents', { authorization: `Bearer ${expiring}` });
    expect(response.status).toBe(200);
  });
});
