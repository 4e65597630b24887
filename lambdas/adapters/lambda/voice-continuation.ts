import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { VoiceTurnPayload } from '../../domain/voice/protocol';

/**
 * Continues a slow voice turn in the voice Lambda's own asynchronous invocation
 * (`InvocationType: 'Event'`: Lambda queues it and answers 202 at once; its own retries of a
 * failed invocation run the same turn under the same idempotency key, so nothing runs twice).
 */
export class LambdaVoiceContinuation {
  constructor(
    private readonly client: Pick<LambdaClient, 'send'>,
    private readonly functionArn: string,
  ) {}

  async start(payload: VoiceTurnPayload): Promise<void> {
    const output = await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionArn,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    if (output.StatusCode !== 202) {
      throw new Error(`The voice continuation was not queued (status ${output.StatusCode ?? 'unknown'})`);
    }
  }
}
