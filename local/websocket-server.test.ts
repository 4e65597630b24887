import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebSocketServer } from 'ws';
import { connect, type SocketClient } from '../test/support/websocket';
import {
  attachLocalWebSocket,
  type LocalWebSocketOptions,
  WEBSOCKET_TIMEOUT_CLOSE_CODE,
} from './websocket-server';

/** API Gateway's idle timeout and maximum duration, played with short values and stub handlers. */
describe('local WebSocket server: idle timeout and maximum connection duration', () => {
  let server: Server;
  let wss: WebSocketServer;
  let url: string;
  const disconnected: string[] = [];
  const sockets: SocketClient[] = [];

  async function start(options: Omit<LocalWebSocketOptions, 'logRequests'>) {
    server = createServer();
    wss = attachLocalWebSocket(
      server,
      Promise.resolve({
        authorizer: async () => ({
          principalId: 'user',
          policyDocument: {
            Version: '2012-10-17',
            Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
          },
          context: { identity: '{}' },
        }),
        connection: async (event) => {
          if (event.requestContext.routeKey === '$disconnect')
            disconnected.push(event.requestContext.connectionId);
          return { statusCode: 200 };
        },
        messages: async () => ({ statusCode: 200 }),
      }),
      { ...options, logRequests: false },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function open() {
    const socket = await connect(url, { token: 'stub' });
    sockets.push(socket);
    const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
      socket.socket.once('close', (code, reason) =>
        resolve({ code, reason: reason.toString(), at: Date.now() }),
      ),
    );
    return { socket, closed, openedAt: Date.now() };
  }

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    wss.close();
    await new Promise((resolve) => server.close(resolve));
    disconnected.length = 0;
  });

  it('closes a connection the client left idle, as API Gateway does, and runs $disconnect', async () => {
    await start({ idleTimeoutMs: 150, maxConnectionMs: 60_000 });
    const { closed, openedAt } = await open();
    const { code, reason, at } = await closed;
    expect(code).toBe(WEBSOCKET_TIMEOUT_CLOSE_CODE);
    expect(reason).toBe('Idle timeout');
    expect(at - openedAt).toBeGreaterThanOrEqual(140);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(disconnected).toHaveLength(1);
  });

  it('keeps a connection whose client sends frames, until its maximum duration', async () => {
    await start({ idleTimeoutMs: 200, maxConnectionMs: 700 });
    const { socket, closed, openedAt } = await open();
    // A frame every 100 ms: never idle for 200 ms.
    const beat = setInterval(() => socket.send({ action: 'ping' }), 100);
    try {
      const { code, reason, at } = await closed;
      expect(code).toBe(WEBSOCKET_TIMEOUT_CLOSE_CODE);
      expect(reason).toBe('Maximum connection duration');
      expect(at - openedAt).toBeGreaterThanOrEqual(690);
    } finally {
      clearInterval(beat);
    }
  });

  it('defaults to API Gateway’s 10 minutes idle and 2 hours in all', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      await start({});
      const { socket, closed } = await open();
      jest.advanceTimersByTime(10 * 60 * 1000 - 1000);
      expect(socket.socket.readyState).toBe(1);
      jest.advanceTimersByTime(2000);
      await expect(closed).resolves.toMatchObject({ reason: 'Idle timeout' });
    } finally {
      jest.useRealTimers();
    }
  });
});
