import * as z from 'zod/mini';
import { e164Phone, lazySchema, text } from '../shared/zod';

/**
 * Local mode's phone (`POST /v1/dev/calls`, `npm run call`): a call placed to an agent's number and
 * walked through the same contact flow document (contactFlow()) and the same voice Lambda handler,
 * with the event shapes Connect and Lex V2 send. Never deployed.
 */
export const devCallBody = lazySchema(() =>
  z.strictObject({
    /** The agent's number (its voice channel address). */
    to: e164Phone(),
    /** The caller's number: the customer, recognised across channels. */
    from: e164Phone(),
    /** What the caller says (omitted: just dial and hear the greeting). */
    text: z.optional(text(1, 1000)),
    /** Go on with a call a previous request started (its `callId`); omitted: a new call. */
    callId: z.optional(
      z.string().check(z.regex(/^call_[0-9a-f-]{36}$/, 'must be a callId this API returned')),
    ),
  }),
);
export type DevCallRequest = z.infer<ReturnType<typeof devCallBody>>;

export const HEARD_KINDS = ['prompt', 'filler', 'message', 'transfer', 'hangup'] as const;

export const devCallResponse = lazySchema(() =>
  z.object({
    callId: z.string(),
    /** `in-progress`: the bot waits for the caller; `transferred`: queued for a person; `ended`: hung up. */
    state: z.enum(['in-progress', 'transferred', 'ended']),
    /** What the caller heard, in order, since the request began. */
    heard: z.array(
      z.object({
        kind: z.enum(HEARD_KINDS),
        /** As spoken, without SSML marks. */
        text: z.string(),
        /** The SSML Polly was given, when it was SSML. */
        ssml: z.optional(z.string()),
        /** Milliseconds since the request began (or since the caller finished speaking). */
        atMs: z.number(),
      }),
    ),
  }),
);
export type DevCallResult = z.infer<ReturnType<typeof devCallResponse>>;

/** The port the local route calls; local mode provides it (local/voice-emulator.ts). */
export interface DevCalls {
  /** Throws NotFoundError for an unknown or finished `callId`. */
  turn(request: DevCallRequest): Promise<DevCallResult>;
}
