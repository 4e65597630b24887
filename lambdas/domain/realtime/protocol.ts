import * as z from 'zod/mini';
import type { TurnEvent } from '../runtime/turn-events';
import { idSchema } from '../shared/ids';
import { lazySchema, storableRecord, text } from '../shared/zod';

/**
 * The WebSocket protocol (API Gateway WebSocket API on AWS, `/v1/ws` on the local server): JSON
 * frames. Client → server frames carry `action` (the API routes on `$request.body.action`);
 * server → client frames carry `type`, the conversation, the execution (null outside a turn) and
 * `seq`, so a client can order and de-duplicate. Every frame the server sends is under 32 KB, API
 * Gateway's frame size.
 */
export const CLIENT_ACTIONS = ['subscribe', 'unsubscribe', 'send_message', 'agent_feedback'] as const;
export type ClientAction = (typeof CLIENT_ACTIONS)[number];

/** API Gateway WebSocket frames are 32 KB; a message may be 128 KB, but we never send one past a frame. */
export const MAX_FRAME_BYTES = 32 * 1024;
/** What a client may send: a message's text (4,000 characters) and its JSON with room to spare. */
export const MAX_CLIENT_FRAME_BYTES = 32 * 1024;

/** An optional id the client picks, echoed on the answer (`subscribed`, `error` …) to match it up. */
const requestId = () =>
  z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1–64 of A–Z a–z 0–9 _ . : -')));

const target = () => ({
  conversationId: z.optional(idSchema('conversation')),
  agentId: z.optional(idSchema('agent')),
});

const exactlyOneTarget = (frame: { conversationId?: string; agentId?: string }) =>
  (frame.conversationId === undefined) !== (frame.agentId === undefined);

export const subscribeFrame = lazySchema(() =>
  z.strictObject({ action: z.literal('subscribe'), requestId: requestId(), ...target() }).check(
    z.refine(exactlyOneTarget, {
      message: 'give exactly one of conversationId or agentId',
      path: ['conversationId'],
    }),
  ),
);
export const unsubscribeFrame = lazySchema(() =>
  z.strictObject({ action: z.literal('unsubscribe'), requestId: requestId(), ...target() }).check(
    z.refine(exactlyOneTarget, {
      message: 'give exactly one of conversationId or agentId',
      path: ['conversationId'],
    }),
  ),
);
export const sendMessageFrame = lazySchema(() =>
  z.strictObject({
    action: z.literal('send_message'),
    requestId: requestId(),
    /** Visitors (web chat) leave it out: their connection is bound to one agent. */
    agentId: z.optional(idSchema('agent')),
    message: text(1, 4000),
    conversationId: z.optional(idSchema('conversation')),
    context: z.optional(storableRecord({ maxChars: 8000 })),
  }),
);
export const agentFeedbackFrame = lazySchema(() =>
  z.strictObject({
    action: z.literal('agent_feedback'),
    requestId: requestId(),
    conversationId: idSchema('conversation'),
    /** The agent's message (`<executionId>#2`, as `agent_message` and the messages API give it). */
    messageId: z
      .string()
      .check(z.regex(/^exe_[0-9A-HJKMNP-TV-Z]{26}#\d{1,3}$/, 'must be a message id (exe_…#n)')),
    rating: z.enum(['up', 'down']),
    note: z.optional(text(1, 1000)),
  }),
);

export type SubscribeFrame = z.infer<ReturnType<typeof subscribeFrame>>;
export type UnsubscribeFrame = z.infer<ReturnType<typeof unsubscribeFrame>>;
export type SendMessageFrame = z.infer<ReturnType<typeof sendMessageFrame>>;
export type AgentFeedbackFrame = z.infer<ReturnType<typeof agentFeedbackFrame>>;
export type ClientFrame = SubscribeFrame | UnsubscribeFrame | SendMessageFrame | AgentFeedbackFrame;

const FRAME_SCHEMAS = {
  subscribe: subscribeFrame,
  unsubscribe: unsubscribeFrame,
  send_message: sendMessageFrame,
  agent_feedback: agentFeedbackFrame,
} as const;

/** Why a client frame was refused, naming the field: answered as an `error` frame, never a dropped socket. */
export class FrameError extends Error {
  constructor(
    readonly code: 'INVALID_FRAME' | 'UNKNOWN_ACTION' | 'FRAME_TOO_LARGE',
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** Parses one client frame (its raw text): JSON, a known `action`, the action's fields. */
export function parseClientFrame(raw: string): ClientFrame {
  if (Buffer.byteLength(raw, 'utf8') > MAX_CLIENT_FRAME_BYTES) {
    throw new FrameError('FRAME_TOO_LARGE', `A frame may be at most ${MAX_CLIENT_FRAME_BYTES} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new FrameError('INVALID_FRAME', 'A frame must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FrameError('INVALID_FRAME', 'A frame must be a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const given = typeof record.requestId === 'string' ? record.requestId.slice(0, 64) : undefined;
  const action = record.action;
  if (typeof action !== 'string' || !(CLIENT_ACTIONS as readonly string[]).includes(action)) {
    throw new FrameError('UNKNOWN_ACTION', `action: must be one of ${CLIENT_ACTIONS.join(', ')}`, given);
  }
  const result = FRAME_SCHEMAS[action as ClientAction]().safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : 'frame';
    throw new FrameError('INVALID_FRAME', `${field}: ${issue?.message ?? 'is not valid'}`, given);
  }
  return result.data as ClientFrame;
}

/** Frames of the protocol itself (answers to a client's action), beside the turn's events. */
export type ProtocolEvent =
  | { readonly type: 'subscribed' | 'unsubscribed' }
  | { readonly type: 'message_accepted' }
  | { readonly type: 'feedback_recorded'; readonly messageId: string; readonly rating: 'up' | 'down' }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

/** One server → client frame. */
export type ServerFrame = (TurnEvent | ProtocolEvent) & {
  readonly conversationId: string | null;
  readonly executionId: string | null;
  readonly agentId?: string;
  readonly seq: number;
  readonly requestId?: string;
};

/** The text fields a too-large frame is cut in (everything else in a frame is small). */
const CUTTABLE = ['text', 'message', 'error', 'reason'] as const;

/**
 * The frame as JSON, at most `MAX_FRAME_BYTES`. Streamed text is split before it gets here
 * (`splitText`); a long final message is cut with `truncated: true` (the whole message is in the
 * conversation: GET /v1/conversations/{id}/messages).
 */
export function encodeFrame(frame: ServerFrame): string {
  const json = JSON.stringify(frame);
  if (Buffer.byteLength(json, 'utf8') <= MAX_FRAME_BYTES) return json;
  const record = { ...frame } as Record<string, unknown>;
  for (const field of CUTTABLE) {
    const value = record[field];
    if (typeof value !== 'string') continue;
    const overBy =
      Buffer.byteLength(JSON.stringify({ ...record, truncated: true }), 'utf8') - MAX_FRAME_BYTES;
    if (overBy <= 0) break;
    record[field] = cutToBytes(value, Math.max(0, Buffer.byteLength(value, 'utf8') - overBy - 16));
    record.truncated = true;
  }
  const cut = JSON.stringify(record);
  if (Buffer.byteLength(cut, 'utf8') <= MAX_FRAME_BYTES) return cut;
  // Nothing cuttable was large: a frame we cannot send whole is sent as what it was.
  return JSON.stringify({
    type: 'error',
    conversationId: frame.conversationId,
    executionId: frame.executionId,
    seq: frame.seq,
    code: 'FRAME_TOO_LARGE',
    message: `A ${frame.type} event was too large to send; read it from the API`,
  });
}

/** `value` cut to at most `maxBytes` of UTF-8, never inside a character (JSON escapes can only grow it). */
function cutToBytes(value: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of value) {
    // JSON escaping counts too: a quote or a control character is 2–6 bytes in the frame.
    const size = Buffer.byteLength(JSON.stringify(char), 'utf8') - 2;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return value.slice(0, end);
}

/** Streamed text in pieces that each fit a frame (a delta is rarely more than a few words). */
export const MAX_DELTA_BYTES = 16 * 1024;
export function splitText(value: string, maxBytes = MAX_DELTA_BYTES): string[] {
  const parts: string[] = [];
  let rest = value;
  while (Buffer.byteLength(JSON.stringify(rest), 'utf8') - 2 > maxBytes) {
    const head = cutToBytes(rest, maxBytes);
    if (head.length === 0) break;
    parts.push(head);
    rest = rest.slice(head.length);
  }
  parts.push(rest);
  return parts;
}
