import {
  type ContentBlock as BedrockContentBlock,
  type BedrockRuntimeClient,
  BedrockRuntimeServiceException,
  ConverseCommand,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  InternalServerException,
  type Message,
  ModelNotReadyException,
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
          return this.client.send(new ConverseCommand(input));
        },
        verdict,
        this.retry,
      );
    } catch (error) {
      throw this.failure(request.modelId, error);
    }
    const measuredMs = Math.round(performance.now() - started);
    return {
      content: (output.output?.message?.content ?? []).flatMap((block) => fromBedrockBlock(block, request)),
      stopReason: stopReasonOf(output, request),
      usage: { inputTokens: output.usage?.inputTokens ?? 0, outputTokens: output.usage?.outputTokens ?? 0 },
      latencyMs: output.metrics?.latencyMs ?? measuredMs,
    };
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

function stopReasonOf(output: ConverseCommandOutput, request: ModelRequest): StopReason {
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
      return output.output?.message?.content?.some((block) => block.toolUse) ? 'tool_use' : 'end_turn';
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
