import { LambdaClient } from '@aws-sdk/client-lambda';
import { LambdaVoiceContinuation } from '../adapters/lambda/voice-continuation';
import { awaitAnswer } from '../domain/voice/await-answer';
import type { VoiceTurnDone, VoiceTurnPayload } from '../domain/voice/protocol';
import { type IncomingCall, startCall } from '../domain/voice/start-call';
import { continueTurn, takeTurn } from '../domain/voice/take-turn';
import { DEFAULT_VOICE_TIMING, type VoiceDeps } from '../domain/voice/voice-deps';
import { logger } from '../observability';
import { channelStores } from './channels';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { runtimeClient, runtimeConfig, runtimeDeps, turnAdmission } from './runtime';
import { DATA_SCOPES } from './tenant-scope';

export type { IncomingCall };

const { VOICE_FUNCTION_ARN, AWS_REGION } = parseEnvironment(
  environmentSlice(ENV.VOICE_FUNCTION_ARN, ENV.AWS_REGION),
  'voice',
  process.env,
  { emptyIsUnset: true },
);

/**
 * Unset (local mode, tests): the continuation runs in this process, after the code hook has
 * answered, exactly as the asynchronous invocation would run it.
 */
function continuation(): VoiceDeps['continuation'] {
  if (VOICE_FUNCTION_ARN) {
    return new LambdaVoiceContinuation(new LambdaClient({ region: AWS_REGION }), VOICE_FUNCTION_ARN);
  }
  return {
    start: async (payload) => {
      setImmediate(() => {
        voiceCalls
          .runLateTurn(payload)
          .catch((error) => logger.error('Voice continuation failed', error as Error));
      });
    },
  };
}

/** The voice Lambda's composition root: the same runtime, billing and decision engine as every channel. */
export const voiceDeps: VoiceDeps = {
  runtime: runtimeDeps,
  directory: channelStores(runtimeClient, runtimeConfig.TABLE_NAME).directory,
  scopes: DATA_SCOPES,
  turnAdmission,
  continuation: continuation(),
  timing: DEFAULT_VOICE_TIMING,
  clock: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  log: { warn: (message, extra) => logger.warn(message, extra) },
};

export const voiceCalls = {
  startCall: (call: IncomingCall) => startCall(voiceDeps, call),
  takeTurn: (session: Parameters<typeof takeTurn>[1], text: string) => takeTurn(voiceDeps, session, text),
  awaitAnswer: (wait: { dialledNumber: string; turnId: string }) => awaitAnswer(voiceDeps, wait),
  runLateTurn: async (payload: VoiceTurnPayload): Promise<VoiceTurnDone> => ({
    turnId: payload.turnId,
    status: await continueTurn(voiceDeps, payload),
  }),
};
