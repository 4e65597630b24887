import { WebSocket } from 'ws';

/** A server → client frame as the protocol sends it. */
export type Frame = Record<string, any> & { type: string; seq: number };

export interface SocketClient {
  readonly socket: WebSocket;
  /** Every frame received so far, in order. */
  readonly frames: Frame[];
  send(frame: object): void;
  /** The first frame (already received or to come) that matches; fails after `timeoutMs`. */
  next(match: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  close(): Promise<void>;
}

/** Opens `/v1/ws` on the local platform; rejects with the HTTP status when the upgrade is refused. */
export function connect(
  baseUrl: string,
  query: Record<string, string> = {},
  options: { protocols?: string[]; origin?: string } = {},
): Promise<SocketClient> {
  const url = new URL('/v1/ws', baseUrl.replace(/^http/, 'ws'));
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const socket = new WebSocket(url, options.protocols ?? [], {
    ...(options.origin ? { origin: options.origin } : {}),
  });
  const frames: Frame[] = [];
  const waiters: { match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }[] = [];
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Frame;
    frames.push(frame);
    for (const waiter of [...waiters]) {
      if (waiter.match(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('unexpected-response', (_req, res) => {
      reject(new RefusedError(res.statusCode ?? 0));
      socket.terminate();
    });
    socket.once('error', reject);
    socket.once('open', () =>
      resolve({
        socket,
        frames,
        send: (frame) => socket.send(JSON.stringify(frame)),
        next: (match, timeoutMs = 10_000) => {
          const seen = frames.find(match);
          if (seen) return Promise.resolve(seen);
          return new Promise((done, fail) => {
            const timer = setTimeout(
              () => fail(new Error(`No matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames)}`)),
              timeoutMs,
            );
            waiters.push({
              match,
              resolve: (frame) => {
                clearTimeout(timer);
                done(frame);
              },
            });
          });
        },
        close: () =>
          new Promise<void>((done) => {
            if (socket.readyState === WebSocket.CLOSED) return done();
            socket.once('close', () => done());
            socket.close();
          }),
      }),
    );
  });
}

export class RefusedError extends Error {
  constructor(readonly status: number) {
    super(`WebSocket upgrade refused: ${status}`);
  }
}

/** Resolves with the status of a refused upgrade; fails if the connection was accepted. */
export async function refusedStatus(promise: Promise<SocketClient>): Promise<number> {
  try {
    const client = await promise;
    await client.close();
  } catch (error) {
    if (error instanceof RefusedError) return error.status;
    throw error;
  }
  throw new Error('The connection was accepted');
}
