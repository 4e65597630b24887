import { useEffect, useRef, useState } from 'preact/hooks';
import type { TurnEvent } from '../../../lambdas/domain/runtime/turn-events';

/**
 * The console's WebSocket (`/v1/ws`): one connection per tab, opened with the signed-in user's
 * token (as the second WebSocket subprotocol), shared by every page that listens. Frames are typed by the platform's own
 * turn-event union (lambdas/domain/runtime/turn-events.ts) plus the protocol's answers
 * (lambdas/domain/realtime/protocol.ts). A dropped connection is reopened politely (1 s, doubling
 * to 30 s, with jitter) and its subscriptions are made again.
 */
export type ProtocolEvent =
  | { readonly type: 'subscribed' | 'unsubscribed' | 'message_accepted' }
  | { readonly type: 'feedback_recorded'; readonly messageId: string; readonly rating: 'up' | 'down' };

export type ServerFrame = (TurnEvent | ProtocolEvent) & {
  readonly conversationId: string | null;
  readonly executionId: string | null;
  readonly agentId?: string;
  readonly seq: number;
  readonly requestId?: string;
  readonly truncated?: boolean;
};

export type ClientFrame =
  | { action: 'subscribe' | 'unsubscribe'; agentId?: string; conversationId?: string; requestId?: string }
  | { action: 'send_message'; agentId: string; message: string; conversationId?: string; requestId?: string }
  | {
      action: 'agent_feedback';
      conversationId: string;
      messageId: string;
      rating: 'up' | 'down';
      note?: string;
      requestId?: string;
    };

/**
 * `reconnecting`: the socket dropped (or a retry failed) and it is being opened again, after the
 * backoff; pages say so, since events may be missed meanwhile.
 */
export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';
type Listener = (frame: ServerFrame) => void;
type StateListener = (state: LiveState) => void;

let wsBase: string | undefined;
let token: string | undefined;
/** The signed-in user's token (session.ts keeps it current). */
export function setLiveToken(value: string | undefined): void {
  token = value;
  if (!value) shared?.close();
}
const currentToken = () => token;
/** Where the WebSocket API is: config.json's `wsUrl` on AWS, the page's own origin locally. */
export function setWsBase(url: string | undefined): void {
  wsBase = url?.replace(/\/$/, '');
}
function socketUrl(): string {
  return wsBase ?? `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/v1/ws`;
}
/**
 * The token goes as `Sec-WebSocket-Protocol: agent-platform, <token>` rather than `?token=`: a header
 * stays out of access logs and browser history; the server selects `agent-platform`.
 */
const PROTOCOL = 'agent-platform';

export class LiveConnection {
  private socket: WebSocket | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<StateListener>();
  /** Subscriptions by target, counted: two pages following one agent unsubscribe once. */
  private readonly subscriptions = new Map<string, number>();
  private readonly outbox: string[] = [];
  private retryMs = 1000;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closedOnPurpose = false;
  state: LiveState = 'closed';

  constructor(readonly token: string) {}

  private setState(state: LiveState) {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private open(retry = false) {
    this.closedOnPurpose = false;
    this.setState(retry ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(socketUrl(), [PROTOCOL, this.token]);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 1000;
      this.setState('open');
      for (const key of this.subscriptions.keys()) socket.send(JSON.stringify(targetFrame('subscribe', key)));
      for (const frame of this.outbox.splice(0)) socket.send(frame);
    };
    socket.onmessage = (message) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(message.data)) as ServerFrame;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(frame);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.closedOnPurpose || this.listeners.size === 0) {
        this.setState('closed');
        return;
      }
      this.setState('reconnecting');
      // Back off, with jitter, so a restarted server is not met by every tab at once.
      const wait = this.retryMs * (0.5 + Math.random() / 2);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.open(true);
      }, wait);
    };
  }

  /** Starts listening (opening the socket if need be); the returned function stops. */
  listen(listener: Listener, onState?: StateListener): () => void {
    this.listeners.add(listener);
    if (onState) {
      this.stateListeners.add(onState);
      onState(this.state);
    }
    if (!this.socket && this.timer === undefined) this.open();
    return () => {
      this.listeners.delete(listener);
      if (onState) this.stateListeners.delete(onState);
    };
  }

  send(frame: ClientFrame): void {
    const text = JSON.stringify(frame);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
    else {
      this.outbox.push(text);
      if (!this.socket && this.timer === undefined) this.open();
    }
  }

  /** Follows an agent (`agt_…`) or a conversation (`cnv_…`); returns the unsubscribe. */
  follow(id: string): () => void {
    const count = this.subscriptions.get(id) ?? 0;
    this.subscriptions.set(id, count + 1);
    if (count === 0 && this.socket?.readyState === WebSocket.OPEN) this.send(targetFrame('subscribe', id));
    return () => {
      const left = (this.subscriptions.get(id) ?? 1) - 1;
      if (left > 0) {
        this.subscriptions.set(id, left);
        return;
      }
      this.subscriptions.delete(id);
      if (this.socket?.readyState === WebSocket.OPEN) this.send(targetFrame('unsubscribe', id));
    };
  }

  close(): void {
    this.closedOnPurpose = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.close();
    this.socket = undefined;
    this.setState('closed');
  }
}

function targetFrame(action: 'subscribe' | 'unsubscribe', id: string): ClientFrame {
  return id.startsWith('cnv_') ? { action, conversationId: id } : { action, agentId: id };
}

let shared: LiveConnection | undefined;
/** The tab's connection for `token` (a new sign-in gets a new one). */
export function live(token: string): LiveConnection {
  if (shared?.token === token) return shared;
  shared?.close();
  shared = new LiveConnection(token);
  return shared;
}

/** Listens to the signed-in tab's connection while the component is mounted. */
export function useLive(listener: Listener, follow: readonly string[] = []): LiveState {
  const [state, setState] = useState<LiveState>('closed');
  const latest = useRef(listener);
  latest.current = listener;
  const key = follow.join(',');
  useEffect(() => {
    const token = currentToken();
    if (!token) return;
    const connection = live(token);
    const stop = connection.listen((frame) => latest.current(frame), setState);
    const unfollow = follow.map((id) => connection.follow(id));
    return () => {
      for (const undo of unfollow) undo();
      stop();
    };
  }, [key]);
  return state;
}
