/**
 * The protocol between the contact flow (lambdas/domain/voice/contact-flow.ts), the Lex V2 bot and
 * the ONE voice Lambda (lambdas/handlers/voice/voice.ts), in domain terms. The handler maps the
 * Connect and Lex events onto these and back; nothing here knows an AWS type.
 */

/** The Lambda's own asynchronous invocation: a turn that did not finish within the code hook's budget. */
export interface VoiceTurnPayload {
  readonly kind: 'voice-turn';
  readonly tenantId: string;
  readonly agentId: string;
  readonly conversationId: string;
  /** `<contactId>:<turn>`: the flow's `pendingTurn`, and (as `voice:<turnId>`) the turn's idempotency key. */
  readonly turnId: string;
  readonly text: string;
  /** Epoch milliseconds: the turn gives up (politely, tokens released) past it. */
  readonly deadline: number;
}

export function isVoiceTurnPayload(value: unknown): value is VoiceTurnPayload {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'voice-turn';
}

/** What the async invocation reports (nobody waits on it: the flow reads the stored result). */
export interface VoiceTurnDone {
  readonly turnId: string;
  readonly status: 'answered' | 'failed' | 'already-done';
}

/** `start-call`: the flat string map Connect requires (`$.External.*`). */
export interface StartCallResult {
  readonly outcome: 'ok' | 'unknown-number' | 'unavailable' | 'no-tokens';
  /** SSML greeting (ok). */
  readonly prompt: string;
  /** Polly voice id. */
  readonly voiceId: string;
  readonly conversationId: string;
  /** SSML polite message when not ok. */
  readonly message: string;
}

/** `await-answer`: the stored turn result, or still pending. */
export interface AwaitAnswerResult {
  readonly status: 'answered' | 'pending' | 'failed';
  readonly prompt: string;
  readonly escalate: 'true' | 'false';
  readonly conversationSummary: string;
  readonly escalationReason: string;
}

/** The session a Lex turn carries (Lex session attributes, set by the flow and by the Lambda). */
export interface VoiceSession {
  readonly dialledNumber: string;
  readonly callerNumber: string;
  readonly conversationId: string;
  readonly contactId: string;
  /** Turns taken so far in this call: the next turn is `turn + 1`. */
  readonly turn: number;
}

/** What the code hook makes of one utterance. */
export type VoiceTurnReply =
  /** Answered in time: spoken, and the conversation stays in the bot. */
  | { readonly kind: 'answer'; readonly ssml: string; readonly turn: number }
  /** Not done within the budget: the filler is spoken, the flow waits for `pendingTurn`. */
  | { readonly kind: 'pending'; readonly ssml: string; readonly turn: number; readonly turnId: string }
  /** The agent (or the caller) wants a person: the flow transfers with the summary. */
  | {
      readonly kind: 'escalate';
      readonly ssml: string;
      readonly turn: number;
      readonly conversationSummary: string;
      readonly escalationReason: string;
    }
  /** The call cannot go on with the agent (stopped, out of tokens): said, then the flow ends or transfers. */
  | { readonly kind: 'end'; readonly ssml: string; readonly turn: number; readonly reason: string };
