import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandOutput,
  ModelErrorException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { ModelError, type ModelMessage, type ModelRequest } from '../../domain/runtime/model';
import { BedrockConverseModel } from './converse-model';

const MODEL_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const bedrock = mockClient(BedrockRuntimeClient);

// Recorded Converse responses (request ids and token counts as Bedrock returned them).
const TOOL_USE_REPLY: ConverseCommandOutput = {
  $metadata: { httpStatusCode: 200, requestId: '5a8e3f8c-6d0b-4d53-9c1e-2f7f0f0c9b11', attempts: 1 },
  output: {
    message: {
      role: 'assistant',
      content: [
        { text: "I'll work that out." },
        {
          toolUse: {
            toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
            name: 'calculator',
            input: { expression: '12*(3+4)' },
          },
        },
      ],
    },
  },
  stopReason: 'tool_use',
  usage: { inputTokens: 412, outputTokens: 61, totalTokens: 473 },
  metrics: { latencyMs: 1184 },
};

const FINAL_REPLY: ConverseCommandOutput = {
  $metadata: { httpStatusCode: 200, requestId: '0d3c1b5e-3a5f-4c8e-8f0e-5d1f4b1d7e22', attempts: 1 },
  output: { message: { role: 'assistant', content: [{ text: '12 × (3 + 4) is 84.' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 497, outputTokens: 14, totalTokens: 511 },
  metrics: { latencyMs: 602 },
};

const TOOLS = [
  {
    name: 'calculator',
    description: 'Evaluate an arithmetic expression.',
    inputSchema: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
  },
];

function request(messages: ModelMessage[], overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    modelId: MODEL_ID,
    system: 'You are the assistant of Acme Dental.',
    messages,
    tools: TOOLS,
    temperature: 0.2,
    maxTokens: 512,
    topP: 0.9,
    ...overrides,
  };
}

const question: ModelMessage = { role: 'user', content: [{ type: 'text', text: 'What is 12*(3+4)?' }] };

const throttled = () =>
  new ThrottlingException({ message: 'Too many requests, please wait.', $metadata: {} });

let sleeps: number[];
let model: BedrockConverseModel;

beforeEach(() => {
  bedrock.reset();
  sleeps = [];
  model = new BedrockConverseModel(new BedrockRuntimeClient({ region: 'us-east-1', maxAttempts: 1 }), {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });
});

const sentInputs = () => bedrock.commandCalls(ConverseCommand).map((call) => call.args[0].input);

describe('BedrockConverseModel', () => {
  it('maps a request to Converse and a text reply back', async () => {
    bedrock.on(ConverseCommand).resolves(FINAL_REPLY);
    const response = await model.converse(
      request([question], { guardrail: { id: 'gr0abc123', version: '3' } }),
    );

    expect(response).toEqual({
      content: [{ type: 'text', text: '12 × (3 + 4) is 84.' }],
      stopReason: 'end_turn',
      usage: { inputTokens: 497, outputTokens: 14 },
      latencyMs: 602,
    });
    expect(sentInputs()).toEqual([
      {
        modelId: MODEL_ID,
        system: [{ text: 'You are the assistant of Acme Dental.' }],
        messages: [{ role: 'user', content: [{ text: 'What is 12*(3+4)?' }] }],
        inferenceConfig: { maxTokens: 512, temperature: 0.2, topP: 0.9 },
        toolConfig: {
          tools: [
            {
              toolSpec: {
                name: 'calculator',
                description: 'Evaluate an arithmetic expression.',
                inputSchema: { json: TOOLS[0]!.inputSchema },
              },
            },
          ],
        },
        guardrailConfig: { guardrailIdentifier: 'gr0abc123', guardrailVersion: '3' },
      },
    ]);
  });

  it('runs a tool round: toolUse out, toolResult (with its status) back in, then the answer', async () => {
    bedrock.on(ConverseCommand).resolvesOnce(TOOL_USE_REPLY).resolvesOnce(FINAL_REPLY);

    const first = await model.converse(request([question]));
    expect(first.stopReason).toBe('tool_use');
    expect(first.content).toEqual([
      { type: 'text', text: "I'll work that out." },
      {
        type: 'toolUse',
        id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
        name: 'calculator',
        input: { expression: '12*(3+4)' },
      },
    ]);
    expect(first.usage).toEqual({ inputTokens: 412, outputTokens: 61 });

    const second = await model.converse(
      request([
        question,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'toolResult', toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', content: '{"result":84}' },
            { type: 'toolResult', toolUseId: 'tooluse_other', content: 'unknown tool', isError: true },
          ],
        },
      ]),
    );
    expect(second.content).toEqual([{ type: 'text', text: '12 × (3 + 4) is 84.' }]);
    expect(second.stopReason).toBe('end_turn');

    const sent = sentInputs()[1]!;
    expect(sent.messages?.[1]).toEqual({
      role: 'assistant',
      content: [
        { text: "I'll work that out." },
        {
          toolUse: {
            toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
            name: 'calculator',
            input: { expression: '12*(3+4)' },
          },
        },
      ],
    });
    expect(sent.messages?.[2]).toEqual({
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q', content: [{ text: '{"result":84}' }] } },
        { toolResult: { toolUseId: 'tooluse_other', content: [{ text: 'unknown tool' }], status: 'error' } },
      ],
    });
  });

  it('sends no tool config without tools, no guardrail without one, and drops blank text beside a tool call', async () => {
    bedrock.on(ConverseCommand).resolves(FINAL_REPLY);
    await model.converse(
      request(
        [
          question,
          {
            role: 'assistant',
            content: [
              { type: 'text', text: ' ' },
              { type: 'toolUse', id: 't1', name: 'calculator', input: { expression: '1+1' } },
            ],
          },
        ],
        { tools: [] },
      ),
    );
    const sent = sentInputs()[0]!;
    expect(sent).not.toHaveProperty('toolConfig');
    expect(sent).not.toHaveProperty('guardrailConfig');
    expect(sent.messages?.[1]?.content).toEqual([
      { toolUse: { toolUseId: 't1', name: 'calculator', input: { expression: '1+1' } } },
    ]);
  });

  it.each([
    ['stop_sequence', 'end_turn'],
    ['max_tokens', 'max_tokens'],
    ['model_context_window_exceeded', 'max_tokens'],
    ['guardrail_intervened', 'guardrail_intervened'],
    ['content_filtered', 'content_filtered'],
  ] as const)('maps stop reason %s to %s', async (bedrockReason, ours) => {
    bedrock.on(ConverseCommand).resolves({ ...FINAL_REPLY, stopReason: bedrockReason });
    expect((await model.converse(request([question]))).stopReason).toBe(ours);
  });

  it('fails a malformed tool use without retrying', async () => {
    bedrock.on(ConverseCommand).resolves({ ...FINAL_REPLY, stopReason: 'malformed_tool_use' });
    const error = await model.converse(request([question])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ provider: 'bedrock', retryable: false });
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
  });

  it('measures latency when Bedrock does not report it', async () => {
    const { metrics: _drop, ...withoutMetrics } = FINAL_REPLY;
    bedrock.on(ConverseCommand).resolves(withoutMetrics);
    const response = await model.converse(request([question]));
    expect(response.latencyMs).toBeGreaterThanOrEqual(0);
    expect(response.latencyMs).toBeLessThan(1000);
  });

  it('retries throttling with jittered exponential backoff, then succeeds', async () => {
    bedrock.on(ConverseCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves(FINAL_REPLY);
    const response = await model.converse(request([question]));
    expect(response.content).toEqual([{ type: 'text', text: '12 × (3 + 4) is 84.' }]);
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(3);
    // random() = 0.5 of 250 ms, then of 500 ms.
    expect(sleeps).toEqual([125, 250]);
  });

  it('retries network failures too', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    bedrock.on(ConverseCommand).rejectsOnce(reset).resolves(FINAL_REPLY);
    await model.converse(request([question]));
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(2);
  });

  it.each([
    [
      'ValidationException',
      () => new ValidationException({ message: 'Malformed input request', $metadata: {} }),
    ],
    [
      'AccessDeniedException',
      () => new AccessDeniedException({ message: 'No access to model', $metadata: {} }),
    ],
    ['ModelErrorException', () => new ModelErrorException({ message: 'The model failed', $metadata: {} })],
  ])('fails at once, not retryable, on %s', async (name, error) => {
    bedrock.on(ConverseCommand).rejects(error());
    const failure = await model.converse(request([question])).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ModelError);
    expect(failure).toMatchObject({
      provider: 'bedrock',
      retryable: false,
      causeName: name,
      statusCode: 502,
    });
    expect((failure as ModelError).message).toContain(`bedrock: ${MODEL_ID}: ${name}:`);
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('says how to fix the failures a new deployment meets first', async () => {
    bedrock.on(ConverseCommand).rejects(new AccessDeniedException({ message: 'No access', $metadata: {} }));
    const failure = (await model.converse(request([question])).catch((e: unknown) => e)) as ModelError;
    expect(failure.message).toContain('enable the model in the Bedrock console');
  });

  it('never repeats the service’s message: an access denial names the account, role and model ARNs', async () => {
    const arnMessage =
      'User: arn:aws:sts::123456789012:assumed-role/AgentPlatform-dev-Runtime/fn is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:eu-west-1::foundation-model/x because no identity-based policy allows it (https://bedrock-runtime.eu-west-1.amazonaws.com)';
    bedrock.on(ConverseCommand).rejects(new AccessDeniedException({ message: arnMessage, $metadata: {} }));
    const failure = (await model.converse(request([question])).catch((e: unknown) => e)) as ModelError;
    expect(failure.message).toBe(
      `bedrock: ${MODEL_ID}: AccessDeniedException: the platform may not use this model (enable the model in the Bedrock console and allow bedrock:InvokeModel on it)`,
    );
    for (const leak of ['arn:', '123456789012', 'AgentPlatform-dev', 'amazonaws.com', 'https://']) {
      expect(failure.message).not.toContain(leak);
    }
  });

  it('gives up after four attempts with a retryable error', async () => {
    bedrock
      .on(ConverseCommand)
      .rejects(new ServiceUnavailableException({ message: 'Service unavailable', $metadata: {} }));
    const failure = await model.converse(request([question])).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ModelError);
    expect(failure).toMatchObject({ retryable: true, causeName: 'ServiceUnavailableException' });
    expect((failure as ModelError).message).toContain('gave up after 4 attempts');
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(4);
    expect(sleeps).toEqual([125, 250, 500]);
  });
});
