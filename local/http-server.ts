import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import type { HttpHandler } from '../lambdas/http/http-handler';
import { type HttpLambdaName, ROUTES, type RouteSpec, splitRouteKey } from '../lambdas/http/route-table';
import { serveConsoleFile } from './console-files';

/** API Gateway's own payload limit; the handlers enforce the (smaller) application limit. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  readonly key: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly paramNames: string[];
  readonly spec: RouteSpec;
}

function compileRoutes(): CompiledRoute[] {
  return Object.entries(ROUTES as Record<string, RouteSpec>).map(([key, spec]) => {
    const { method, path } = splitRouteKey(key);
    const paramNames: string[] = [];
    const source = path
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\\?\{(\w+)\\?\}/g, (_, name: string) => {
        paramNames.push(name);
        return '([^/]+)';
      });
    return { key, method, pattern: new RegExp(`^${source}$`), paramNames, spec };
  });
}

/** API Gateway hands claims to the Lambda as strings; lists become "[a b]". */
function gatewayClaims(payload: JWTPayload): Record<string, string> {
  return Object.fromEntries(
    Object.entries(payload).map(([name, value]) => [
      name,
      Array.isArray(value)
        ? `[${value.join(' ')}]`
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value),
    ]),
  );
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > GATEWAY_MAX_BODY_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Whether every percent-escape in the raw path and query decodes (to UTF-8): API Gateway answers
 * 400 to a request whose target does not, before any route or Lambda sees it.
 */
function isWellEncoded(target: string): boolean {
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? '' : target.slice(queryAt + 1);
  try {
    decodeURIComponent(path);
    for (const part of query.split(/[&=]/)) decodeURIComponent(part.replace(/\+/g, ' '));
    return true;
  } catch {
    return false;
  }
}

export interface LocalHttpServerOptions {
  readonly handlers: Promise<Record<HttpLambdaName, HttpHandler>>;
  /** The local issuer's public keys: tokens are checked against them as the JWT authorizer checks Cognito's. */
  readonly jwks: JSONWebKeySet;
  readonly issuer: () => string;
  readonly audience: string;
  readonly logRequests: boolean;
  /** The built console (console/dist), served at `/`; none when absent. */
  readonly consoleDir?: string;
}

/**
 * Plays API Gateway (HTTP API, payload 2.0) for the local mode: the same route table, the same
 * event shape, JWT verification like the JWT authorizer (issuer, audience, signature, and an
 * expiry that must be there and not passed), and the gateway's own 400/401/404/413 answers.
 */
export function createLocalHttpServer(options: LocalHttpServerOptions): Server {
  const routes = compileRoutes();
  const keySet = createLocalJWKSet(options.jwks);
  return createServer(async (req, res) => {
    const started = performance.now();
    // Kept: reading stops early on an oversize body, which detaches the socket from the request.
    const { socket } = req;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    res.on('finish', () => {
      if (options.logRequests) {
        console.log(
          `${method} ${url.pathname} ${res.statusCode} ${Math.round(performance.now() - started)}ms`,
        );
      }
    });
    try {
      if (!isWellEncoded(req.url ?? '/')) return send(res, 400, JSON.stringify({ message: 'Bad Request' }));
      if (method === 'GET' && url.pathname === '/local-issuer/.well-known/jwks.json') {
        return send(res, 200, JSON.stringify(options.jwks));
      }
      if (options.consoleDir && (await serveConsoleFile(options.consoleDir, method, url.pathname, res)))
        return;
      let params: Record<string, string> = {};
      const route = routes.find((candidate) => {
        if (candidate.method !== method) return false;
        const match = candidate.pattern.exec(url.pathname);
        if (!match) return false;
        params = Object.fromEntries(
          candidate.paramNames.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
        );
        return true;
      });
      if (!route) return send(res, 404, JSON.stringify({ message: 'Not Found' }));

      let claims: Record<string, string> | undefined;
      if (route.spec.permission !== 'public') {
        const authorization = req.headers.authorization ?? '';
        const token = /^Bearer\s+(.+)$/i.exec(authorization)?.[1];
        if (!token)
          return send(res, 401, JSON.stringify({ message: 'Unauthorized' }), {
            'www-authenticate': 'Bearer',
          });
        try {
          const { payload } = await jwtVerify(token, keySet, {
            issuer: options.issuer(),
            audience: options.audience,
            algorithms: ['RS256'],
            // The JWT authorizer refuses a token that never expires, however well signed.
            requiredClaims: ['exp'],
          });
          claims = gatewayClaims(payload);
        } catch {
          return send(res, 401, JSON.stringify({ message: 'Unauthorized' }), {
            'www-authenticate': 'Bearer error="invalid_token"',
          });
        }
      }

      const body = await readBody(req);
      if (body === 'too-large') {
        // Answered before the rest of the body is read, so the connection cannot carry another
        // request: say so and close it, as the gateway does (kept open, the next request on it
        // would wait behind the unread bytes until the keep-alive timeout).
        res.on('finish', () => {
          socket.end();
          setTimeout(() => socket.destroy(), 1000).unref();
        });
        return send(res, 413, JSON.stringify({ message: 'Request Entity Too Large' }), {
          connection: 'close',
        });
      }
      const headers: Record<string, string> = { 'x-forwarded-proto': 'http' };
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
      }
      const isText =
        /json|text|xml|x-www-form-urlencoded/i.test(headers['content-type'] ?? '') || body.length === 0;
      const query: Record<string, string> = {};
      for (const [name, value] of url.searchParams)
        query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
      const requestId = randomUUID();
      const event: APIGatewayProxyEventV2WithJWTAuthorizer = {
        version: '2.0',
        routeKey: route.key,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
        ...(route.paramNames.length > 0 ? { pathParameters: params } : {}),
        requestContext: {
          accountId: 'local',
          apiId: 'local',
          domainName: headers.host ?? 'localhost',
          domainPrefix: 'localhost',
          http: {
            method,
            path: url.pathname,
            protocol: `HTTP/${req.httpVersion}`,
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
            userAgent: headers['user-agent'] ?? '',
          },
          requestId,
          routeKey: route.key,
          stage: '$default',
          time: new Date().toUTCString(),
          timeEpoch: Date.now(),
          authorizer: claims
            ? { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } }
            : (undefined as unknown as APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer']),
        },
        ...(body.length > 0
          ? { body: isText ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !isText }
          : { isBase64Encoded: false }),
      } as APIGatewayProxyEventV2WithJWTAuthorizer;
      const handler = (await options.handlers)[route.spec.lambda];
      const deadline = Date.now() + 29_000;
      const context = {
        awsRequestId: requestId,
        functionName: `local-${route.spec.lambda}`,
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:local-${route.spec.lambda}`,
        memoryLimitInMB: '1024',
        logGroupName: `/local/${route.spec.lambda}`,
        logStreamName: 'local',
        callbackWaitsForEmptyEventLoop: false,
        getRemainingTimeInMillis: () => deadline - Date.now(),
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
      } satisfies Context;
      const result = await handler(event, context);
      res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
      res.end(
        result.body === undefined
          ? undefined
          : result.isBase64Encoded
            ? Buffer.from(result.body, 'base64')
            : result.body,
      );
    } catch (error) {
      console.error('Local gateway: handler threw', error);
      if (!res.headersSent) send(res, 500, JSON.stringify({ message: 'Internal Server Error' }));
      else res.end();
    }
  });
}
