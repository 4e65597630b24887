import { AppError, withoutInfrastructure } from '../shared/errors';

/**
 * The model port: one conversation turn against an LLM, with tool use. Bedrock (Converse),
 * OpenAI-compatible servers and the offline scripted model implement it; the runtime never
 * knows which one it talks to.
 */
export type ContentBlock =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'toolUse';
      readonly id: string;
      readonly name: string;
      readonly input: Record<string, unknown>;
    }
  | {
      readonly type: 'toolResult';
      readonly toolUseId: string;
      /** JSON text of the tool's output, or the error message. */
      readonly content: string;
      readonly isError?: boolean;
    };

export interface ModelMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly ContentBlock[];
}

export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  /** JSON Schema (draft 2020-12) of the tool's input, generated from its zod schema. */
  readonly inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  readonly modelId: string;
  readonly system: string;
  readonly messages: readonly ModelMessage[];
  readonly tools: readonly ToolSpec[];
  readonly temperature: number;
  readonly maxTokens: number;
  readonly topP: number;
  /** Bedrock Guardrail to apply; providers without guardrails ignore it. */
  readonly guardrail?: { readonly id: string; readonly version: string };
  /**
   * Aborts the call (a turn out of time gives up on a call that would outlive its Lambda): the
   * provider stops waiting and retrying, and the call rejects.
   */
  readonly abortSignal?: AbortSignal;
}

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'guardrail_intervened' | 'content_filtered';

export interface ModelUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface ModelResponse {
  readonly content: readonly ContentBlock[];
  readonly stopReason: StopReason;
  readonly usage: ModelUsage;
  /** Time the provider reports (Bedrock `metrics.latencyMs`) or, failing that, measured around the call. */
  readonly latencyMs: number;
}

export interface ModelProvider {
  /** Which provider this is, as configured on agents (`bedrock`, `openai-compatible`, `scripted`). */
  readonly name: string;
  converse(request: ModelRequest): Promise<ModelResponse>;
  /**
   * The same call, streamed: `onDelta` is given the reply's text as the model writes it (tool-use
   * input is assembled from the stream, not passed on), and it resolves to the same response
   * `converse` would, usage included. Providers without it are called with `converse`.
   */
  converseStream?(request: ModelRequest, onDelta: (text: string) => void): Promise<ModelResponse>;
}

/**
 * A model call that failed after the provider's own retries. `retryable` says whether trying
 * again later could succeed (throttling, timeouts, 5xx) or not (bad request, access denied,
 * unknown model). Exposed to callers as 502 with the reason, in product terms: the provider as
 * agents name it, the model id, and what went wrong; never the provider's own words (they go to
 * the logs), nor a host, URL or ARN.
 */
export class ModelError extends AppError {
  constructor(
    readonly provider: string,
    message: string,
    readonly retryable: boolean,
    readonly causeName?: string,
  ) {
    super(502, 'MODEL_FAILED', withoutInfrastructure(`${provider}: ${message}`), { provider, retryable });
  }
}

/** Text embeddings for long-term memory: Titan Text Embeddings V2 on AWS, a hashing embedder offline. */
export interface Embedder {
  readonly name: string;
  readonly dimensions: number;
  /** One unit-length vector per text, in order. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}

/** Assistant text of a response, tool calls left out. */
export function textOf(content: readonly ContentBlock[]): string {
  return content
    .filter((block): block is Extract<ContentBlock, { type: 'text' }> => block.type === 'text')
    .map((block) => block.text)
    .join('');
}
