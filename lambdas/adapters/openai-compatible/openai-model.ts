import { EventSourceParserStream } from 'eventsource-parser/stream';
import * as z from 'zod/mini';
import {
  type ContentBlock,
  ModelError,
  type ModelMessage,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type StopReason,
} from '../../domain/runtime/model';
import { lazySchema } from '../../domain/shared/zod';
import { logger } from '../../observability';
import {
  errorLike,
  errorName,
  isNetworkError,
  oneLineDetail,
  RetriesExhaustedError,
  type RetryOptions,
  type RetryVerdict,
  retryAfterMs,
  withRetries,
} from '../retry';

export interface OpenAiCompatibleOptions {
  /** The API root, `/chat/completions` is appended: `https://api.openai.com/v1`, `http://localhost:11434/v1`. */
  readonly baseUrl: string;
  /** Sent as a bearer token; local servers (Ollama, vLLM) need none. Never logged nor put in errors. */
  readonly apiKey?: string;
  /** Per attempt, response body included. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
}

const PROVIDER = 'openai-compatible';

/**
 * Any server speaking OpenAI's Chat Completions API (OpenAI, Groq, OpenRouter, Ollama, vLLM),
 * through the global `fetch`: one JSON answer (`converse`) or server-sent events (`converseStream`).
 */
export class OpenAiCompatibleModel implements ModelProvider {
  readonly name = PROVIDER;
  private readonly endpoint: string;
  /** What errors may say about where the call went: scheme, host and port, never credentials. */
  private readonly origin: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  /** A #private field: left out of JSON.stringify and util.inspect, so logging the provider never shows it. */
  readonly #apiKey: string | undefined;

  constructor(options: OpenAiCompatibleOptions) {
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.origin = new URL(options.baseUrl).origin;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retry = options.retry ?? {};
    this.#apiKey = options.apiKey;
  }

  async converse(request: ModelRequest): Promise<ModelResponse> {
    const body = JSON.stringify(toChatRequest(request));
    let started = 0;
    let payload: unknown;
    try {
      payload = await withRetries(
        () => {
          started = performance.now();
          return this.post(body, request.abortSignal);
        },
        (error) => (request.abortSignal?.aborted ? { retry: false } : verdict(error)),
        this.retry,
      );
    } catch (error) {
      throw this.failure(request.modelId, error);
    }
    const latencyMs = Math.round(performance.now() - started);
    return { ...fromChatResponse(payload, request.modelId), latencyMs };
  }

  /**
   * The same call with `stream: true`: text deltas are passed on as they arrive, tool calls are
   * assembled from their fragments, and the usage comes from the last chunk (`stream_options.
   * include_usage`). Retried like `converse` only while nothing has been passed on yet: a watcher
   * must never see text twice.
   */
  async converseStream(request: ModelRequest, onDelta: (text: string) => void): Promise<ModelResponse> {
    const body = JSON.stringify({
      ...toChatRequest(request),
      stream: true,
      stream_options: { include_usage: true },
    });
    let started = 0;
    let passedOn = false;
    let assembled: Omit<ModelResponse, 'latencyMs'>;
    try {
      assembled = await withRetries(
        async () => {
          started = performance.now();
          const response = await this.open(body, 'text/event-stream', request.abortSignal);
          if (!response.body) throw new ModelError(PROVIDER, 'the provider answered with no body', false);
          return readChatStream(response.body, request.modelId, (text) => {
            passedOn = true;
            onDelta(text);
          });
        },
        (error) => (passedOn || request.abortSignal?.aborted ? { retry: false } : verdict(error)),
        this.retry,
      );
    } catch (error) {
      // A server that does not stream (or knows no `stream_options`) refuses the request as bad:
      // the same call without streaming still answers it (a request that is bad either way fails
      // the same, one request later).
      if (!passedOn && error instanceof HttpStatusError && (error.status === 400 || error.status === 422)) {
        logger.warn('The provider refused a streamed request; calling it without streaming', {
          provider: PROVIDER,
          modelId: request.modelId,
          status: error.status,
        });
        return this.converse(request);
      }
      throw this.failure(request.modelId, error);
    }
    return { ...assembled, latencyMs: Math.round(performance.now() - started) };
  }

  /** Sends the request; a non-2xx answer is thrown as an `HttpStatusError` with what it says. */
  private async open(body: string, accept: string, abortSignal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers,
      body,
      signal: abortSignal
        ? AbortSignal.any([AbortSignal.timeout(this.timeoutMs), abortSignal])
        : AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw HttpStatusError.from(response, await response.text());
    return response;
  }

  private async post(body: string, abortSignal?: AbortSignal): Promise<unknown> {
    const response = await this.open(body, 'application/json', abortSignal);
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new ModelError(PROVIDER, 'the provider answered with a body that is not JSON', false);
    }
  }

  /**
   * The failure in product terms (the model, the HTTP status, what it means); the server's own
   * words and address, which can name hosts, accounts or the key, go to the log only.
   */
  private failure(modelId: string, error: unknown): ModelError {
    if (error instanceof ModelError) return error;
    const exhausted = error instanceof RetriesExhaustedError;
    const last = exhausted ? error.lastError : error;
    const reason = `${this.reasonOf(last)}${exhausted ? ` (${error.message})` : ''}`;
    logger.warn('Model call failed', {
      provider: PROVIDER,
      modelId,
      reason,
      detail: this.redact(`${this.origin}: ${this.describe(last)}`),
    });
    return new ModelError(PROVIDER, `${modelId}: ${reason}`, exhausted, errorName(last));
  }

  private reasonOf(error: unknown): string {
    if (error instanceof HttpStatusError)
      return `HTTP ${error.status}: ${statusMeaning(error.status, error.code)}`;
    if (errorLike(error)?.name === 'TimeoutError') return `no answer within ${this.timeoutMs} ms`;
    return 'the provider could not be reached';
  }

  /** For the log: what the server said, or why it could not be reached. */
  private describe(error: unknown): string {
    if (error instanceof HttpStatusError) return error.message;
    const like = errorLike(error);
    if (like?.name === 'TimeoutError') return `no answer within ${this.timeoutMs} ms`;
    // fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND...) in `cause`.
    const cause = errorLike(like?.cause) ?? like;
    return `cannot reach the server: ${typeof cause?.message === 'string' ? cause.message : String(error)}`;
  }

  /** Servers echo parts of what they were sent; the key must never travel on in an error. */
  private redact(message: string): string {
    return this.#apiKey ? message.split(this.#apiKey).join('[redacted]') : message;
  }
}

/** A non-2xx answer: what it says, and when the server asks us to come back. */
class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly code: string | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`);
    this.name = 'HttpStatusError';
  }

  static from(response: Response, body: string): HttpStatusError {
    const { message, code } = errorBodyOf(body);
    // An authentication error's body can quote the key it rejected (OpenAI shows part of it).
    const detail =
      response.status === 401 || response.status === 403
        ? 'the API key was rejected or lacks access'
        : message;
    return new HttpStatusError(response.status, detail, code, openAiRetryAfterMs(response.headers));
  }
}

/** What an HTTP status from the provider means, in the platform's words. */
function statusMeaning(status: number, code: string | undefined): string {
  if (status === 401 || status === 403) return 'the API key was rejected or lacks access';
  if (status === 404) return 'the provider does not offer this model or endpoint';
  if (status === 429) {
    return code === 'insufficient_quota'
      ? 'the provider account is out of credit'
      : 'the provider is limiting requests';
  }
  if (status === 408 || status >= 500) return 'the provider failed to answer';
  return 'the provider rejected the request';
}

function verdict(error: unknown): RetryVerdict {
  if (error instanceof HttpStatusError) {
    // OpenAI answers 429 both for "slow down" and for "out of credit"; only the first passes.
    const transient =
      (error.status === 429 && error.code !== 'insufficient_quota') ||
      error.status === 408 ||
      error.status >= 500;
    if (!transient) return { retry: false };
    return error.retryAfterMs === undefined ? { retry: true } : { retry: true, afterMs: error.retryAfterMs };
  }
  return { retry: isNetworkError(error) };
}

/** OpenAI sends `retry-after-ms` beside `retry-after`; the latter is seconds or an HTTP date. */
function openAiRetryAfterMs(headers: Headers): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  return retryAfterMs(headers);
}

/** `{"error":{"message","code"}}` (OpenAI, Groq, vLLM), `{"error":"..."}` (Ollama) or plain text. */
function errorBodyOf(body: string): { message: string; code: string | undefined } {
  let message = body;
  let code: string | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    const error = isRecord(parsed) ? parsed.error : undefined;
    if (typeof error === 'string') message = error;
    else if (isRecord(error)) {
      if (typeof error.message === 'string') message = error.message;
      if (typeof error.code === 'string') code = error.code;
    }
  } catch {
    // Not JSON: a proxy's HTML or plain text, kept as is (shortened).
  }
  return { message: oneLineDetail(message), code };
}

type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function toChatRequest(request: ModelRequest): Record<string, unknown> {
  const messages: ChatMessage[] = request.system ? [{ role: 'system', content: request.system }] : [];
  for (const message of request.messages) messages.push(...toChatMessages(message, request.modelId));
  return {
    model: request.modelId,
    messages,
    temperature: request.temperature,
    max_tokens: request.maxTokens,
    top_p: request.topP,
    // Some servers reject an empty list, so no tools means no `tools` at all.
    ...(request.tools.length > 0
      ? {
          tools: request.tools.map((tool) => ({
            type: 'function',
            function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
          })),
        }
      : {}),
  };
}

/**
 * Tool results travel as `tool` messages, which must directly follow the assistant message that
 * called the tools; so a user turn's results go first and its text after them.
 */
function toChatMessages(message: ModelMessage, modelId: string): ChatMessage[] {
  const text = message.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('\n');
  const misplaced = message.content.find(
    (block) => block.type === (message.role === 'user' ? 'toolUse' : 'toolResult'),
  );
  if (misplaced) {
    throw new ModelError(
      PROVIDER,
      `${modelId}: a ${misplaced.type} block cannot be in a ${message.role} message`,
      false,
    );
  }
  if (message.role === 'assistant') {
    const toolCalls: ChatToolCall[] = message.content.flatMap((block) =>
      block.type === 'toolUse'
        ? [
            {
              id: block.id,
              type: 'function',
              function: { name: block.name, arguments: JSON.stringify(block.input) },
            },
          ]
        : [],
    );
    return [
      {
        role: 'assistant',
        content: text || null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
    ];
  }
  const results: ChatMessage[] = message.content.flatMap((block) =>
    block.type === 'toolResult'
      ? [
          {
            role: 'tool' as const,
            tool_call_id: block.toolUseId,
            // The API has no error flag on tool messages; the model reads it from the text.
            content: block.isError ? `Error: ${block.content}` : block.content,
          },
        ]
      : [],
  );
  return text || results.length === 0 ? [...results, { role: 'user', content: text }] : results;
}

const chatResponseSchema = lazySchema(() =>
  z.object({
    choices: z
      .array(
        z.object({
          message: z.object({
            content: z.optional(z.nullable(z.string())),
            tool_calls: z.optional(
              z.nullable(
                z.array(
                  z.object({
                    id: z.optional(z.string()),
                    function: z.object({
                      name: z.string(),
                      // Some servers send the arguments already parsed.
                      arguments: z.optional(z.union([z.string(), z.record(z.string(), z.unknown())])),
                    }),
                  }),
                ),
              ),
            ),
          }),
          finish_reason: z.optional(z.nullable(z.string())),
        }),
      )
      .check(z.minLength(1)),
    usage: z.optional(
      z.nullable(
        z.object({ prompt_tokens: z.optional(z.number()), completion_tokens: z.optional(z.number()) }),
      ),
    ),
  }),
);

function fromChatResponse(payload: unknown, modelId: string): Omit<ModelResponse, 'latencyMs'> {
  const parsed = chatResponseSchema().safeParse(payload);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'body';
    throw new ModelError(PROVIDER, `${modelId}: unexpected response shape at ${where}`, false);
  }
  const { choices, usage } = parsed.data;
  // The schema requires one choice at least.
  const choice = choices[0] as (typeof choices)[number];
  const content: ContentBlock[] = [];
  if (choice.message.content) content.push({ type: 'text', text: choice.message.content });
  for (const [index, call] of (choice.message.tool_calls ?? []).entries()) {
    content.push({
      type: 'toolUse',
      id: call.id ?? `call_${index}`,
      name: call.function.name,
      input: argumentsOf(call.function.name, call.function.arguments, modelId),
    });
  }
  return {
    content,
    stopReason: stopReasonOf(choice.finish_reason, content),
    // A server that reports no usage is billed as zero, never guessed (as unpriced models are).
    usage: { inputTokens: usage?.prompt_tokens ?? 0, outputTokens: usage?.completion_tokens ?? 0 },
  };
}

const chatChunkSchema = lazySchema(() =>
  z.object({
    choices: z.optional(
      z.nullable(
        z.array(
          z.object({
            delta: z.optional(
              z.nullable(
                z.object({
                  content: z.optional(z.nullable(z.string())),
                  tool_calls: z.optional(
                    z.nullable(
                      z.array(
                        z.object({
                          index: z.optional(z.number()),
                          id: z.optional(z.nullable(z.string())),
                          function: z.optional(
                            z.nullable(
                              z.object({
                                name: z.optional(z.nullable(z.string())),
                                arguments: z.optional(z.nullable(z.string())),
                              }),
                            ),
                          ),
                        }),
                      ),
                    ),
                  ),
                }),
              ),
            ),
            finish_reason: z.optional(z.nullable(z.string())),
          }),
        ),
      ),
    ),
    usage: z.optional(
      z.nullable(
        z.object({ prompt_tokens: z.optional(z.number()), completion_tokens: z.optional(z.number()) }),
      ),
    ),
    /** Some servers report a failure inside the stream, after the 200. */
    error: z.optional(z.unknown()),
  }),
);

/**
 * Reads a chat completions event stream to its end (`data: [DONE]`, or the body closing) into the
 * response `converse` would have given: the text, each tool call from its fragments (by `index`:
 * the id and name come first, the arguments in pieces), the finish reason and the usage.
 */
async function readChatStream(
  body: ReadableStream<Uint8Array>,
  modelId: string,
  onDelta: (text: string) => void,
): Promise<Omit<ModelResponse, 'latencyMs'>> {
  const events = body
    .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream());
  const reader = events.getReader();
  let text = '';
  const calls = new Map<number, { id?: string; name: string; arguments: string }>();
  let finishReason: string | null | undefined;
  let usage: { prompt_tokens?: number | undefined; completion_tokens?: number | undefined } | undefined;
  try {
    for (;;) {
      const { value: event, done } = await reader.read();
      if (done) {
        // Servers end with `[DONE]`, some just close; either way after the finish reason.
        if (finishReason === undefined) {
          throw new ModelError(PROVIDER, `${modelId}: the stream ended before the reply did`, true);
        }
        break;
      }
      if (event.data.trim() === '[DONE]') break;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        throw new ModelError(PROVIDER, `${modelId}: sent a stream event that is not JSON`, false);
      }
      const parsed = chatChunkSchema().safeParse(json);
      if (!parsed.success) {
        const where = parsed.error.issues[0]?.path.join('.') || 'event';
        throw new ModelError(PROVIDER, `${modelId}: unexpected stream event shape at ${where}`, false);
      }
      const chunk = parsed.data;
      if (chunk.error !== undefined) {
        const { message, code } = errorBodyOf(JSON.stringify({ error: chunk.error }));
        throw new HttpStatusError(502, message, code, undefined);
      }
      if (chunk.usage) usage = chunk.usage;
      // One choice is asked for (no `n`); the usage chunk has none.
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      if (choice.finish_reason) finishReason = choice.finish_reason;
      const delta = choice.delta;
      if (delta?.content) {
        text += delta.content;
        onDelta(delta.content);
      }
      for (const [position, fragment] of (delta?.tool_calls ?? []).entries()) {
        const index = fragment.index ?? position;
        const call = calls.get(index) ?? { name: '', arguments: '' };
        if (fragment.id) call.id = fragment.id;
        if (fragment.function?.name) call.name += fragment.function.name;
        if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
        calls.set(index, call);
      }
    }
  } catch (error) {
    // Stop the download: what is left of a broken stream is not wanted.
    await reader.cancel().catch(() => undefined);
    throw error;
  } finally {
    reader.releaseLock();
  }
  const content: ContentBlock[] = text ? [{ type: 'text', text }] : [];
  for (const [index, call] of [...calls].sort(([a], [b]) => a - b)) {
    if (!call.name) throw new ModelError(PROVIDER, `${modelId}: streamed a tool call without a name`, false);
    content.push({
      type: 'toolUse',
      id: call.id ?? `call_${index}`,
      name: call.name,
      input: argumentsOf(call.name, call.arguments, modelId),
    });
  }
  return {
    content,
    stopReason: stopReasonOf(finishReason, content),
    usage: { inputTokens: usage?.prompt_tokens ?? 0, outputTokens: usage?.completion_tokens ?? 0 },
  };
}

/**
 * Arguments that are not a JSON object fail the call (not retryable, like Bedrock's
 * `malformed_tool_use`): running the tool with `{}` would act on input the model never gave,
 * and the arguments themselves (customer data, often) stay out of the message.
 */
function argumentsOf(tool: string, raw: string | Record<string, unknown> | undefined, modelId: string) {
  if (raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return {};
  if (typeof raw !== 'string') return raw;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (isRecord(parsed)) return parsed;
  } catch {
    // Reported below, as for a value that is JSON but not an object.
  }
  throw new ModelError(
    PROVIDER,
    `${modelId}: returned arguments for tool "${tool}" that are not a JSON object`,
    false,
  );
}

function stopReasonOf(finishReason: string | null | undefined, content: readonly ContentBlock[]): StopReason {
  const calledTools = content.some((block) => block.type === 'toolUse');
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'content_filter':
      return 'content_filtered';
    default:
      // `tool_calls`, `function_call`; and Ollama, which says `stop` even when it called tools.
      return calledTools ? 'tool_use' : 'end_turn';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
