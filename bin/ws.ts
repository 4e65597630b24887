/**
 * `npm run -s ws -- [options]`: a WebSocket session with a running local platform (`/v1/ws`), one
 * frame per printed line, as a client sees them.
 *
 *   --api <url>          the platform (default $API or http://127.0.0.1:3000)
 *   --token <id token>   a signed-in user (default $TOKEN), sent as `?token=`
 *   --key <pk_…>         a web chat's publishable key instead (a visitor), with --origin <page origin>
 *   --customer <id> --signature <hex HMAC-SHA256 of the id with the web chat's signing secret>
 *   --subscribe-agent <agt_…> / --subscribe-conversation <cnv_…>
 *   --agent <agt_…> --send <text> [--conversation <cnv_…>]   a chat turn over the socket
 *   --wait <seconds>     how long to watch (default: until the turn's agent_message, at most 30 s)
 *
 * A refused connection prints the HTTP status and exits 1.
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: process.env.API ?? 'http://127.0.0.1:3000' },
    token: { type: 'string', default: process.env.TOKEN },
    key: { type: 'string' },
    origin: { type: 'string' },
    customer: { type: 'string' },
    signature: { type: 'string' },
    'subscribe-agent': { type: 'string' },
    'subscribe-conversation': { type: 'string' },
    agent: { type: 'string' },
    conversation: { type: 'string' },
    send: { type: 'string' },
    wait: { type: 'string' },
  },
});

const url = new URL('/v1/ws', values.api.replace(/^http/, 'ws'));
if (values.key) {
  url.searchParams.set('key', values.key);
  if (values.customer) url.searchParams.set('customer', values.customer);
  if (values.signature) url.searchParams.set('signature', values.signature);
} else if (values.token) {
  url.searchParams.set('token', values.token);
}
const waitMs = values.wait ? Number(values.wait) * 1000 : 30_000;
const socket = new WebSocket(url, { ...(values.origin ? { origin: values.origin } : {}) });
const done = (code: number) => {
  socket.terminate();
  process.exit(code);
};

socket.on('unexpected-response', (_request, response) => {
  console.log(`refused: ${response.statusCode}`);
  done(1);
});
socket.on('error', (error) => {
  console.error(`ws: ${error.message}`);
  done(1);
});
socket.on('open', () => {
  const send = (frame: object) => socket.send(JSON.stringify(frame));
  if (values['subscribe-agent']) send({ action: 'subscribe', agentId: values['subscribe-agent'] });
  if (values['subscribe-conversation']) {
    send({ action: 'subscribe', conversationId: values['subscribe-conversation'] });
  }
  if (values.send !== undefined) {
    send({
      action: 'send_message',
      message: values.send,
      ...(values.agent ? { agentId: values.agent } : {}),
      ...(values.conversation ? { conversationId: values.conversation } : {}),
    });
  }
  setTimeout(() => done(0), waitMs).unref();
});
socket.on('message', (data) => {
  const text = data.toString();
  console.log(text);
  const frame = JSON.parse(text) as { type?: string };
  // A turn asked for here is over with its message (or its error), unless told to keep watching.
  if (
    values.send !== undefined &&
    !values.wait &&
    (frame.type === 'agent_message' || frame.type === 'error')
  ) {
    done(frame.type === 'error' ? 1 : 0);
  }
});
