import {
  type ContentBlock as BedrockContentBlock,
  type BedrockRuntimeClient,
  BedrockRuntimeServiceException,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  InternalServerException,
  type Message,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ServiceUnavailableException,
  ThrottlingException,
  type ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import {
  type ContentBlock,
  ModelError,
  type ModelMessage,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type StopReason,
} from '../../domain/runtime/model';
import { logger } from '../../observability';
import {
  errorLike,
  errorName,
  isNetworkError,
  RetriesExhaustedError,
  type RetryOptions,
  type RetryVerdict,
  withRetries,
} from '../retry';

type Document = NonNullable<ToolUseBlock['input']>;

const TRANSIENT = [
  ThrottlingException,
  ServiceUnavailableException,
  ModelNotReadyException,
  InternalServerException,
  ModelTimeoutException,
  // A stream that broke off on the service's side.
  ModelStreamErrorException,
];

/**
 * Amazon Bedrock through the Converse API, one request per turn. Build the client with
 * `maxAttempts: 1`: attempts are counted here (`withRetries`), and the SDK's own retries would
 * multiply them.
 */
export class BedrockConverseModel implements ModelProvider {
  readonly name = 'bedrock';

  constructor(
    private readonly client: BedrockRuntimeClient,
    private readonly retry: RetryOptions = {},
  ) {}

  async converse(request: ModelRequest): Promise<ModelResponse> {
    const input = toConverseInput(request);
    let started = 0;
    let output: ConverseCommandOutput;
    try {
      output = await withRetries(
        () => {
          started = performance.now();
          return this.client.send(new ConverseCommand(input), { abortSignal: request.abortSignal });
        },
        (error) => (request.abortSignal?.aborted ? { retry: false } : verdict(error)),
        this.retry,
      );
    } catch (error) {
      throw this.failure(request.modelId, error);
    }
    const measuredMs = Math.round(performance.now() - started);
    return {
      content: (output.output?.message?.content ?? []).flatMap((block) => fromBedrockBlock(block, request)),
      stopReason: stopReasonOf(
        { stopReason: output.stopReason, content: output.output?.message?.content ?? [] },
        request,
      ),
      usage: { inputTokens: output.usage?.inputTokens ?? 0, outputTokens: output.usage?.outputTokens ?? 0 },
      latencyMs: output.metrics?.latencyMs ?? measuredMs,
    };
  }

  /**
   * The same call through ConverseStream: text deltas are passed on as they arrive, tool-use
   * input is assembled from its JSON fragments, and usage and latency come from the closing
   * `metadata` event: the same response `converse` gives. Retried like `converse` only while
   * nothing has been passed on (a watcher must never see text twice).
   */
  async converseStream(request: ModelRequest, onDelta: (text: string) => void): Promise<ModelResponse> {
    const input = toConverseInput(request);
    let started = 0;
    let passedOn = false;
    let assembled: ModelResponse;
    try {
      assembled = await withRetries(
        async () => {
          started = performance.now();
          const output = await this.client.send(new ConverseStreamCommand(input), {
            abortSignal: request.abortSignal,
          });
          if (!output.stream) {
            throw new ModelError(this.name, `${request.modelId}: answered without a stream`, true);
          }
          return readConverseStream(output.stream, request, (text) => {
            passedOn = true;
            onDelta(text);
          });
        },
        (error) => (passedOn || request.abortSignal?.aborted ? { retry: false } : verdict(error)),
        this.retry,
      );
    } catch (error) {
      throw this.failure(request.modelId, error);
    }
    return assembled.latencyMs >= 0
      ? assembled
      : { ...assembled, latencyMs: Math.round(performance.now() - started) };
  }

  /**
   * The failure in product terms: the model, the service's error name and what it means. The
   * service's own message (an access denial names the account and role ARNs) goes to the log only.
   */
  private failure(modelId: string, error: unknown): ModelError {
    if (error instanceof ModelError) return error;
    const exhausted = error instanceof RetriesExhaustedError;
    const last = exhausted ? error.lastError : error;
    const reason = `${reasonOf(last)}${exhausted ? ` (${error.message})` : ''}`;
    logger.warn('Model call failed', { provider: this.name, modelId, reason, detail: describe(last) });
    return new ModelError(this.name, `${modelId}: ${reason}`, exhausted, errorName(last));
  }
}

function verdict(error: unknown): RetryVerdict {
  if (TRANSIENT.some((type) => error instanceof type)) return { retry: true };
  if (error instanceof BedrockRuntimeServiceException) {
    // An unmodelled 429 or 5xx (from a proxy or a new fault) is as transient as the modelled ones.
    const status = error.$metadata.httpStatusCode ?? 0;
    return { retry: status === 429 || status >= 500 };
  }
  return { retry: isNetworkError(error) };
}

function toConverseInput(request: ModelRequest): ConverseCommandInput {
  return {
    modelId: request.modelId,
    ...(request.system ? { system: [{ text: request.system }] } : {}),
    messages: request.messages.map(toBedrockMessage),
    inferenceConfig: { maxTokens: request.maxTokens, temperature: request.temperature, topP: request.topP },
    ...(request.tools.length > 0
      ? {
          toolConfig: {
            tools: request.tools.map((tool) => ({
              toolSpec: {
                name: tool.name,
                description: tool.description,
                inputSchema: { json: tool.inputSchema as Document },
              },
            })),
          },
        }
      : {}),
    ...(request.guardrail
      ? {
          guardrailConfig: {
            guardrailIdentifier: request.guardrail.id,
            guardrailVersion: request.guardrail.version,
          },
        }
      : {}),
  };
}

function toBedrockMessage(message: ModelMessage): Message {
  // Converse rejects blank text blocks; runtimes produce them beside tool calls ("" then toolUse).
  const blocks = message.content.filter((block) => block.type !== 'text' || block.text.trim() !== '');
  return { role: message.role, content: (blocks.length > 0 ? blocks : message.content).map(toBedrockBlock) };
}

function toBedrockBlock(block: ContentBlock): BedrockContentBlock {
  switch (block.type) {
    case 'text':
      return { text: block.text };
    case 'toolUse':
      return { toolUse: { toolUseId: block.id, name: block.name, input: block.input as Document } };
    case 'toolResult':
      return {
        toolResult: {
          toolUseId: block.toolUseId,
          content: [{ text: block.content }],
          ...(block.isError ? { status: 'error' as const } : {}),
        },
      };
  }
}

/** Reasoning, citations and other block kinds are not part of the port and are left out. */
function fromBedrockBlock(block: BedrockContentBlock, request: ModelRequest): ContentBlock[] {
  if (block.text !== undefined) return [{ type: 'text', text: block.text }];
  if (block.toolUse) {
    const { toolUseId, name, input } = block.toolUse;
    if (!toolUseId || !name || !isRecord(input)) {
      throw new ModelError('bedrock', `${request.modelId}: returned a malformed tool call`, false);
    }
    return [{ type: 'toolUse', id: toolUseId, name, input }];
  }
  return [];
}

type StreamedBlock =
  | { kind: 'text'; text: string }
  | { kind: 'toolUse'; toolUseId?: string; name?: string; json: string };

/**
 * A ConverseStream to its end, as the SDK yields it: `contentBlockStart` (a tool use's id and
 * name; text blocks may start with their first delta), `contentBlockDelta` (text, or a piece of
 * the tool input's JSON), `contentBlockStop`, `messageStop` (the stop reason), `metadata` (usage,
 * latency). The service's errors are thrown by the SDK's iterator; should one come as an event,
 * it is thrown the same.
 */
async function readConverseStream(
  stream: AsyncIterable<ConverseStreamOutput>,
  request: ModelRequest,
  onDelta: (text: string) => void,
): Promise<ModelResponse> {
  const blocks = new Map<number, StreamedBlock>();
  let stopReason: string | undefined;
  let usage = { inputTokens: 0, outputTokens: 0 };
  let latencyMs = -1;
  for await (const event of stream) {
    const failure =
      event.internalServerException ??
      event.modelStreamErrorException ??
      event.validationException ??
      event.throttlingException ??
      event.serviceUnavailableException;
    if (failure) throw failure;
    if (event.contentBlockStart) {
      const index = event.contentBlockStart.contentBlockIndex ?? blocks.size;
      const toolUse = event.contentBlockStart.start?.toolUse;
      if (toolUse) {
        blocks.set(index, {
          kind: 'toolUse',
          ...(toolUse.toolUseId ? { toolUseId: toolUse.toolUseId } : {}),
          ...(toolUse.name ? { name: toolUse.name } : {}),
          json: '',
        });
      }
    } else if (event.contentBlockDelta) {
      const index = event.contentBlockDelta.contentBlockIndex ?? 0;
      const delta = event.contentBlockDelta.delta;
      const block = blocks.get(index);
      if (delta?.text !== undefined) {
        if (block?.kind === 'toolUse') continue;
        blocks.set(index, { kind: 'text', text: (block?.text ?? '') + delta.text });
        if (delta.text) onDelta(delta.text);
      } else if (delta?.toolUse) {
        if (block?.kind !== 'toolUse') {
          throw new ModelError(
            'bedrock',
            `${request.modelId}: streamed tool input outside a tool use`,
            false,
          );
        }
        block.json += delta.toolUse.input ?? '';
      }
      // Reasoning and citation deltas are not part of the port and are left out.
    } else if (event.messageStop) {
      stopReason = event.messageStop.stopReason;
    } else if (event.metadata) {
      usage = {
        inputTokens: event.metadata.usage?.inputTokens ?? 0,
        outputTokens: event.metadata.usage?.outputTokens ?? 0,
      };
      latencyMs = event.metadata.metrics?.latencyMs ?? -1;
    }
  }
  if (stopReason === undefined) {
    throw new ModelError('bedrock', `${request.modelId}: the stream ended before the reply did`, true);
  }
  const content = [...blocks]
    .sort(([a], [b]) => a - b)
    .flatMap(([, block]): BedrockContentBlock[] =>
      block.kind === 'text'
        ? [{ text: block.text }]
        : [
            {
              toolUse: {
                toolUseId: block.toolUseId,
                name: block.name,
                input: toolInputOf(block.json, request) as Document,
              },
            },
          ],
    );
  return {
    content: content.flatMap((block) => fromBedrockBlock(block, request)),
    stopReason: stopReasonOf({ stopReason, content }, request),
    usage,
    latencyMs,
  };
}

/** A tool use's streamed input: JSON text, `{}` when the tool takes none. */
function toolInputOf(json: string, request: ModelRequest): unknown {
  if (json.trim() === '') return {};
  try {
    return JSON.parse(json);
  } catch {
    throw new ModelError('bedrock', `${request.modelId}: returned a malformed tool call`, false);
  }
}

function stopReasonOf(
  output: { stopReason?: string | undefined; content: readonly BedrockContentBlock[] },
  request: ModelRequest,
): StopReason {
  switch (output.stopReason) {
    case 'tool_use':
    case 'max_tokens':
    case 'guardrail_intervened':
    case 'content_filtered':
      return output.stopReason;
    case 'model_context_window_exceeded':
      return 'max_tokens';
    // Sampling again might give well-formed output, but an automatic retry of a misbehaving model
    // can also spend tokens in a loop; the execution fails with the reason instead.
    case 'malformed_model_output':
    case 'malformed_tool_use':
      throw new ModelError('bedrock', `${request.modelId}: stopped with ${output.stopReason}`, false);
    default:
      // end_turn, stop_sequence, and reasons newer than this code.
      return output.content.some((block) => block.toolUse) ? 'tool_use' : 'end_turn';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What each Bedrock error means, in the platform's words (and what fixes the first two). */
const MEANINGS: Readonly<Record<string, string>> = {
  AccessDeniedException:
    'the platform may not use this model (enable the model in the Bedrock console and allow bedrock:InvokeModel on it)',
  ResourceNotFoundException: 'unknown model id, or not offered in this region',
  ValidationException: 'the provider rejected the request',
  ThrottlingException: 'the provider is limiting requests',
  ServiceQuotaExceededException: 'a quota of the provider is exhausted',
  ModelTimeoutException: 'the model took too long to answer',
  ModelNotReadyException: 'the model is not ready yet',
  ModelErrorException: 'the model failed while answering',
  ServiceUnavailableException: 'the provider failed to answer',
  InternalServerException: 'the provider failed to answer',
};

function reasonOf(error: unknown): string {
  const name = errorName(error);
  if (name !== undefined && MEANINGS[name]) return `${name}: ${MEANINGS[name]}`;
  if (isNetworkError(error)) return 'the provider could not be reached';
  return `${name ?? 'Error'}: the provider failed`;
}

/** For the log only: the service's own message. */
function describe(error: unknown): string {
  const like = errorLike(error);
  return typeof like?.message === 'string'
    ? `${errorName(error) ?? 'Error'}: ${like.message}`
    : String(error);
}
