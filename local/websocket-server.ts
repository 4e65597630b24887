import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { WEBSOCKET_SUBPROTOCOL } from '../lambdas/domain/realtime/authorize';
import type { ConnectionPoster } from '../lambdas/domain/realtime/ports';
import { CLIENT_ACTIONS } from '../lambdas/domain/realtime/protocol';
import type {
  WebSocketAuthorizerEvent,
  WebSocketAuthorizerResult,
  WebSocketRouteEvent,
  WebSocketRouteResult,
} from '../lambdas/handlers/websocket/websocket-event';

export interface LocalWebSocketHandlers {
  readonly authorizer: (event: WebSocketAuthorizerEvent) => Promise<WebSocketAuthorizerResult>;
  readonly connection: (event: WebSocketRouteEvent) => Promise<WebSocketRouteResult>;
  readonly messages: (event: WebSocketRouteEvent) => Promise<WebSocketRouteResult>;
}

/** API Gateway's WebSocket message size (a message may span frames up to this). */
const MAX_MESSAGE_BYTES = 128 * 1024;

/** API Gateway closes a WebSocket connection idle this long (no frame from the client)… */
export const WEBSOCKET_IDLE_TIMEOUT_MS = 10 * 60 * 1000;
/** …and any connection at this age. */
export const WEBSOCKET_MAX_CONNECTION_MS = 2 * 60 * 60 * 1000;
/** The close code API Gateway sends then ("going away"). */
export const WEBSOCKET_TIMEOUT_CLOSE_CODE = 1001;

export interface LocalWebSocketOptions {
  readonly logRequests: boolean;
  /** Idle timeout (default API Gateway's 10 minutes): a client frame or ping restarts it. */
  readonly idleTimeoutMs?: number;
  /** Maximum connection duration (default API Gateway's 2 hours). */
  readonly maxConnectionMs?: number;
}

/**
 * The local server's open sockets, reached as API Gateway's PostToConnection reaches a
 * connection: by id, `gone` once it is closed.
 */
class LocalConnections implements ConnectionPoster {
  readonly sockets = new Map<string, WebSocket>();

  async post(connectionId: string, frame: string): Promise<'sent' | 'gone'> {
    const socket = this.sockets.get(connectionId);
    if (!socket || socket.readyState !== WebSocket.OPEN) return 'gone';
    return new Promise((resolve) => {
      socket.send(frame, (error) => resolve(error ? 'gone' : 'sent'));
    });
  }

  /**
   * Drops every open connection as a lost network or a restarted gateway would: no close frame,
   * the client sees an abnormal closure (1006) and `$disconnect` runs. For tests of clients'
   * reconnection, in process only (no route reaches it). Answers how many were dropped.
   */
  dropAll(): number {
    const open = [...this.sockets.values()];
    for (const socket of open) socket.terminate();
    return open.length;
  }
}

export const localConnections = new LocalConnections();

/** Handler runs still going (frames, `$disconnect`): stopping the platform waits for them. */
const running = new Set<Promise<unknown>>();
function track(work: Promise<unknown>): void {
  running.add(work);
  void work.finally(() => running.delete(work));
}

/** Waits for every handler run in flight (the platform's stop, before its table goes). */
export async function settleLocalWebSocket(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running]);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.write(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ message: reason })}`,
  );
  socket.destroy();
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/**
 * Plays API Gateway's WebSocket API at `/v1/ws` on the local server's port: the `$connect`
 * authorizer and `$connect` route run on the upgrade (refused: 401/403, no socket), each frame goes
 * to the message handler with the route `$request.body.action` selects (else `$default`), and a
 * closed socket runs `$disconnect`. The same handler functions as the Lambdas, the same event shapes.
 */
export function attachLocalWebSocket(
  server: Server,
  handlers: Promise<LocalWebSocketHandlers>,
  options: LocalWebSocketOptions,
): WebSocketServer {
  const idleTimeoutMs = options.idleTimeoutMs ?? WEBSOCKET_IDLE_TIMEOUT_MS;
  const maxConnectionMs = options.maxConnectionMs ?? WEBSOCKET_MAX_CONNECTION_MS;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(WEBSOCKET_SUBPROTOCOL) ? WEBSOCKET_SUBPROTOCOL : false),
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/v1/ws') return refuse(socket, 404, 'Not Found');
    void (async () => {
      const { authorizer, connection, messages } = await handlers;
      const connectionId = randomBytes(12).toString('base64url');
      const headers = flatHeaders(req);
      const query = Object.fromEntries(url.searchParams);
      let authorized: WebSocketAuthorizerResult;
      try {
        authorized = await authorizer({
          type: 'REQUEST',
          methodArn: 'arn:aws:execute-api:local:000000000000:local/local/$connect',
          headers,
          queryStringParameters: query,
          requestContext: { connectionId, identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' } },
        });
      } catch {
        if (options.logRequests) console.log('WS /v1/ws 401');
        return refuse(socket, 401, 'Unauthorized');
      }
      if (authorized.policyDocument.Statement.some((statement) => statement.Effect !== 'Allow')) {
        if (options.logRequests) console.log('WS /v1/ws 403');
        return refuse(socket, 403, 'Forbidden');
      }
      const authorizerContext = { ...authorized.context, principalId: authorized.principalId };
      const routeEvent = (routeKey: string, body?: string): WebSocketRouteEvent => ({
        requestContext: {
          routeKey,
          eventType:
            routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE',
          connectionId,
          authorizer: authorizerContext,
        },
        headers,
        ...(body !== undefined ? { body, isBase64Encoded: false } : {}),
      });
      const connected = await connection(routeEvent('$connect')).catch(() => ({ statusCode: 500 }));
      if (connected.statusCode !== 200) return refuse(socket, 500, 'Internal Server Error');
      wss.handleUpgrade(req, socket, head, (ws) => {
        localConnections.sockets.set(connectionId, ws);
        if (options.logRequests) console.log(`WS /v1/ws connected ${connectionId}`);
        // As API Gateway does: a client that is silent too long, or any connection too old, is closed
        // (clients reconnect; the connection item's TTL matches the maximum duration).
        const timeOut = (reason: string) => () => {
          if (options.logRequests) console.log(`WS /v1/ws ${reason} ${connectionId}`);
          ws.close(WEBSOCKET_TIMEOUT_CLOSE_CODE, reason);
        };
        let idle = setTimeout(timeOut('Idle timeout'), idleTimeoutMs);
        const maxDuration = setTimeout(timeOut('Maximum connection duration'), maxConnectionMs);
        const active = () => {
          clearTimeout(idle);
          idle = setTimeout(timeOut('Idle timeout'), idleTimeoutMs);
        };
        ws.on('ping', active);
        ws.on('message', (data, isBinary) => {
          active();
          const body = isBinary ? '' : data.toString();
          let routeKey = '$default';
          try {
            const action = (JSON.parse(body) as { action?: unknown }).action;
            if (typeof action === 'string' && (CLIENT_ACTIONS as readonly string[]).includes(action))
              routeKey = action;
          } catch {
            // Not JSON: `$default`, which answers with an error frame.
          }
          track(
            messages(routeEvent(routeKey, body)).catch((error: unknown) =>
              console.error('Local WebSocket: message handler threw', error),
            ),
          );
        });
        ws.on('close', () => {
          clearTimeout(idle);
          clearTimeout(maxDuration);
          localConnections.sockets.delete(connectionId);
          track(
            connection(routeEvent('$disconnect')).catch((error: unknown) =>
              console.error('Local WebSocket: $disconnect failed', error),
            ),
          );
        });
      });
    })().catch((error: unknown) => {
      console.error('Local WebSocket: upgrade failed', error);
      refuse(socket, 500, 'Internal Server Error');
    });
  });
  return wss;
}
