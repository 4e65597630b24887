import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { VoiceTurnPayload } from '../../domain/voice/protocol';
import { LambdaVoiceContinuation } from './voice-continuation';

const lambda = mockClient(LambdaClient);
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:voice';
const PAYLOAD: VoiceTurnPayload = {
  kind: 'voice-turn',
  tenantId: 'ten_1',
  agentId: 'agt_1',
  conversationId: 'cnv_1',
  turnId: 'c0ffee00-0000-4000-8000-000000000001:3',
  text: 'Book me in',
  deadline: 1_765_000_000_000,
};

beforeEach(() => lambda.reset());

describe('LambdaVoiceContinuation', () => {
  it('invokes the voice Lambda itself asynchronously (Event) with the turn as its payload', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    await new LambdaVoiceContinuation(new LambdaClient({ region: 'us-east-1' }), ARN).start(PAYLOAD);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe(ARN);
    expect(input?.InvocationType).toBe('Event');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual(PAYLOAD);
  });

  it('fails when Lambda did not queue it, so the code hook does not promise an answer that never comes', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await expect(
      new LambdaVoiceContinuation(new LambdaClient({ region: 'us-east-1' }), ARN).start(PAYLOAD),
    ).rejects.toThrow(/not queued/);
  });
});
