import type {
  AwaitAnswerResult,
  StartCallResult,
  VoiceSession,
  VoiceTurnDone,
  VoiceTurnPayload,
  VoiceTurnReply,
} from '../domain/voice/protocol';

/** A call as the contact flow's `start-call` block sees it. */
export interface IncomingCall {
  readonly contactId: string;
  readonly dialledNumber: string;
  readonly callerNumber: string;
  readonly initiation: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * The voice Lambda's composition root: its use cases with their dependencies.
 * TODO(voice-turn): wired in the next commit (routing, runtime, billing, turn store, self-invoke).
 */
export const voiceCalls = {
  startCall: async (_call: IncomingCall): Promise<StartCallResult> => {
    throw new Error('not wired yet');
  },
  takeTurn: async (_session: VoiceSession, _text: string): Promise<VoiceTurnReply> => {
    throw new Error('not wired yet');
  },
  awaitAnswer: async (_wait: { dialledNumber: string; turnId: string }): Promise<AwaitAnswerResult> => {
    throw new Error('not wired yet');
  },
  runLateTurn: async (_payload: VoiceTurnPayload): Promise<VoiceTurnDone> => {
    throw new Error('not wired yet');
  },
};
