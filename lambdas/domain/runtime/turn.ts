import type { Agent } from '../agents/schemas';
import type { Message } from '../conversations/conversations';
import type { Customer } from '../conversations/customers';
import { AppError } from '../shared/errors';
import { runTool, specOf, type ToolContext, type ToolRunResult, toolsFor } from '../tools/registry';
import { contextWindowOf, estimateTokens, fitHistory } from './context-window';
import {
  type ContentBlock,
  type ModelMessage,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type ModelUsage,
  type ToolSpec,
  textOf,
} from './model';
import { buildSystemPrompt } from './prompt';
import type { TurnEvent } from './turn-events';

/** How many model calls one turn may make while the model keeps asking for tools. */
export const MAX_TOOL_ROUNDS = 5;
/** Tool output beyond this is cut before it goes back to the model. */
const MAX_TOOL_RESULT_CHARS = 8_000;

export class TurnError extends AppError {
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

export interface TurnInput {
  readonly agent: Agent;
  /**
   * Go on from where an earlier part of this turn stopped for its deadline: its prompt, messages,
   * usage and round are taken from here (memories are not recalled again, nothing it ran runs again).
   */
  readonly resume?: TurnCheckpoint;
  readonly customer?: Customer;
  /** Unsummarised history, oldest first. */
  readonly history: readonly Message[];
  readonly summary?: string;
  readonly userText: string;
  readonly taskContext?: Record<string, unknown>;
}

/**
 * The actions the model may propose this turn. They are tools to the model, but a proposal goes
 * to the decision engine, which decides (and maybe runs) it; the model is told the outcome.
 */
export interface TurnActions {
  readonly specs: readonly ToolSpec[];
  has(name: string): boolean;
  propose(name: string, input: unknown): Promise<ToolRunResult>;
}

export interface TurnDeps {
  readonly model: ModelProvider;
  readonly tools: Omit<ToolContext, 'agent' | 'tenantId' | 'customerId'>;
  readonly actions?: TurnActions;
  /** Absent, the turn runs to its end however long that takes. */
  readonly deadline?: TurnDeadline;
  /**
   * Tells whoever watches the turn (bound to its scope by the caller; must not throw): thinking
   * before each model call, the reply's text as it streams, each tool run started and ended.
   * Given, the model is called streaming when its provider can.
   */
  readonly emit?: (event: TurnEvent) => void;
}

/**
 * When a turn must have stopped, and what its steps are expected to take. Before each model call
 * and each tool round the turn checks that the step fits in the time left; one that does not is
 * not started: the turn stops there, with a checkpoint to go on from.
 */
export interface TurnDeadline {
  /** Epoch milliseconds. */
  readonly at: number;
  /** What a model call is expected to take before one has been timed in this turn. */
  readonly modelCallMs: number;
  /** What a round of tool runs is expected to take before one has been timed in this turn. */
  readonly toolRoundMs: number;
  /** The clock (epoch ms); Date.now unless a test gives another. */
  readonly now?: () => number;
  /**
   * How long past `at` a model call already under way may still run before it is abandoned (its
   * answer would come too late to record); the turn then stops as if the call had not started.
   * Default `CALL_GRACE_MS`.
   */
  readonly graceMs?: number;
}

/** Within the margin a caller leaves between the deadline and being cut off (3 s over HTTP). */
export const CALL_GRACE_MS = 1_500;

/**
 * Where a turn stopped for its deadline, all that is needed to go on from there (JSON data). When
 * the last message is the assistant's tool calls, their round has not run yet: it runs first.
 */
export interface TurnCheckpoint {
  readonly system: string;
  readonly messages: readonly ModelMessage[];
  /** The round the next model call belongs to. */
  readonly round: number;
  /** Everything the turn used so far (all its parts). */
  readonly usage: TurnUsage;
  readonly summary?: { readonly text: string; readonly through: string };
}

export interface TurnUsage extends ModelUsage {
  readonly modelCalls: number;
}

export interface TurnResult {
  readonly reply: string;
  /** The tool runs of this part of the turn (a resumed turn's earlier runs are recorded already). */
  readonly toolRuns: readonly ToolRunResult[];
  /** Everything the turn used, earlier parts included. */
  readonly usage: TurnUsage;
  /** Set when older history was folded into the summary during this turn. */
  readonly summary?: { readonly text: string; readonly through: string };
  /** Set when the turn stopped for its deadline: it is not finished, and goes on from here. */
  readonly deferred?: TurnCheckpoint;
}

/** A turn that failed part-way still reports what it used and ran, for the execution record. */
export class TurnFailure extends Error {
  constructor(
    readonly reason: unknown,
    readonly toolRuns: readonly ToolRunResult[],
    readonly usage: TurnUsage,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

/** A running summary is cut to this size, so folding can never push the prompt past the window. */
const SUMMARY_MAX_TOKENS = 300;

const SUMMARY_INSTRUCTION =
  'Summarise the conversation below for your own later reference: facts about the customer, requests, decisions and open items. Plain prose, at most 150 words.';

/** Counted the way `fitHistory` counts: content plus a small per-message allowance. */
function messageTokens(messages: readonly ModelMessage[]): number {
  let total = 0;
  for (const message of messages) {
    total += 4;
    for (const block of message.content) {
      if (block.type === 'text') total += estimateTokens(block.text);
      else if (block.type === 'toolUse') total += 10 + estimateTokens(JSON.stringify(block.input));
      else total += 10 + estimateTokens(block.content);
    }
  }
  return total;
}

type ToolUseBlock = Extract<ContentBlock, { type: 'toolUse' }>;

function toolUsesOf(content: readonly ContentBlock[]): ToolUseBlock[] {
  return content.filter((block): block is ToolUseBlock => block.type === 'toolUse');
}

/** The tool calls a checkpoint left unanswered: its last message is the assistant's asking for them. */
function pendingToolUses(messages: readonly ModelMessage[]): ToolUseBlock[] | undefined {
  const last = messages.at(-1);
  if (last?.role !== 'assistant') return undefined;
  const uses = toolUsesOf(last.content);
  return uses.length > 0 ? uses : undefined;
}

/**
 * Whether the next step fits before the deadline: the longest step of its kind timed in this turn,
 * or the configured allowance before one has been.
 */
class StepClock {
  private readonly longest = { modelCall: 0, toolRound: 0 };
  constructor(private readonly deadline: TurnDeadline | undefined) {}

  now(): number {
    return this.deadline?.now?.() ?? Date.now();
  }

  fits(step: 'modelCall' | 'toolRound'): boolean {
    if (!this.deadline) return true;
    const allowance = step === 'modelCall' ? this.deadline.modelCallMs : this.deadline.toolRoundMs;
    return this.now() + (this.longest[step] || allowance) <= this.deadline.at;
  }

  async timed<T>(step: 'modelCall' | 'toolRound', run: () => Promise<T>): Promise<T> {
    const started = this.now();
    try {
      return await run();
    } finally {
      this.longest[step] = Math.max(this.longest[step], this.now() - started);
    }
  }
}

/**
 * One agent turn: recall memories, assemble the prompt within the model's window (folding old
 * history into the summary when it no longer fits), then the bounded tool-use loop. Under a
 * deadline, a step that would not finish in time is not started: the turn returns `deferred`, a
 * checkpoint that `input.resume` goes on from (elsewhere, later), so no step ever runs twice.
 */
export async function runTurn(deps: TurnDeps, input: TurnInput): Promise<TurnResult> {
  const { agent, resume } = input;
  const usage = { inputTokens: 0, outputTokens: 0, modelCalls: 0, ...resume?.usage };
  const toolRuns: ToolRunResult[] = [];
  const tools = toolsFor(agent);
  const specs = [...tools.map(specOf), ...(deps.actions?.specs ?? [])];
  const clock = new StepClock(deps.deadline);
  const toolContext: ToolContext = {
    ...deps.tools,
    tenantId: agent.tenantId,
    agent,
    ...(input.customer ? { customerId: input.customer.id } : {}),
  };
  const emit = deps.emit;
  const call = async (
    system: string,
    messages: ModelMessage[],
    withTools: boolean,
    streamed = false,
    abortSignal?: AbortSignal,
  ) => {
    const request: ModelRequest = {
      ...(abortSignal ? { abortSignal } : {}),
      modelId: agent.model.modelId,
      system,
      messages,
      tools: withTools ? specs : [],
      temperature: agent.model.temperature,
      maxTokens: agent.model.maxTokens,
      topP: agent.model.topP,
      ...(agent.guardrail ? { guardrail: agent.guardrail } : {}),
    };
    const response = await clock.timed('modelCall', () =>
      streamed && emit && deps.model.converseStream
        ? deps.model.converseStream(request, (text) => {
            if (text) emit({ type: 'agent_message_delta', text });
          })
        : deps.model.converse(request),
    );
    usage.inputTokens += response.usage.inputTokens;
    usage.outputTokens += response.usage.outputTokens;
    usage.modelCalls += 1;
    return response;
  };
  const runToolRound = async (toolUses: readonly ToolUseBlock[]): Promise<ContentBlock[]> => {
    const results: ContentBlock[] = [];
    for (const use of toolUses) {
      emit?.({ type: 'tool_execution', tool: use.name, status: 'started' });
      const tool = tools.find((candidate) => candidate.name === use.name);
      const run = tool
        ? await runTool(tool, use.input, toolContext)
        : deps.actions?.has(use.name)
          ? await deps.actions.propose(use.name, use.input)
          : {
              name: use.name,
              input: use.input,
              status: 'failed' as const,
              error: `no tool ${use.name} is available`,
              durationMs: 0,
            };
      toolRuns.push(run);
      emit?.({
        type: 'tool_execution',
        tool: use.name,
        status: run.status,
        ...(run.status === 'failed' && run.error ? { error: run.error } : {}),
      });
      const text = JSON.stringify(run.status === 'succeeded' ? run.output : { error: run.error });
      results.push({
        type: 'toolResult',
        toolUseId: use.id,
        content:
          text.length > MAX_TOOL_RESULT_CHARS ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}…(truncated)` : text,
        ...(run.status === 'failed' ? { isError: true } : {}),
      });
    }
    return results;
  };

  try {
    const window = contextWindowOf(agent.model.modelId);
    const toolSpecTokens = estimateTokens(JSON.stringify(specs));
    const start = resume
      ? {
          prompt: resume.system,
          messages: [...resume.messages],
          ...(resume.summary ? { folded: resume.summary } : {}),
        }
      : await prepare(input, deps, call, window, toolSpecTokens);
    const { prompt, messages, folded } = start;
    let round = resume?.round ?? 1;
    let pending = resume ? pendingToolUses(resume.messages) : undefined;
    const stopHere = (): TurnResult => ({
      reply: '',
      toolRuns,
      usage,
      ...(folded ? { summary: folded } : {}),
      deferred: {
        system: prompt,
        messages: [...messages],
        round,
        usage: { ...usage },
        ...(folded ? { summary: folded } : {}),
      },
    });
    for (;;) {
      if (pending) {
        if (!clock.fits('toolRound')) return stopHere();
        const uses = pending;
        const results = await clock.timed('toolRound', () => runToolRound(uses));
        messages.push({ role: 'user', content: results });
        pending = undefined;
        round += 1;
      }
      if (round > MAX_TOOL_ROUNDS) {
        throw new TurnError(
          'TOOL_ROUNDS_EXCEEDED',
          `the model was still calling tools after ${MAX_TOOL_ROUNDS} rounds; the turn was stopped`,
        );
      }
      const used = estimateTokens(prompt) + toolSpecTokens + messageTokens(messages);
      if (used + agent.model.maxTokens > window) {
        throw new TurnError(
          'CONTEXT_TOO_LARGE',
          `tool results outgrew ${agent.model.modelId}'s ${window}-token window`,
        );
      }
      if (!clock.fits('modelCall')) return stopHere();
      emit?.({ type: 'agent_thinking' });
      const abandon = deps.deadline
        ? AbortSignal.timeout(
            Math.max(0, deps.deadline.at + (deps.deadline.graceMs ?? CALL_GRACE_MS) - clock.now()),
          )
        : undefined;
      let response: ModelResponse;
      try {
        response = await call(prompt, messages, specs.length > 0, true, abandon);
      } catch (error) {
        // Slower than every call before it: given up on, it runs again in the part that goes on.
        if (abandon?.aborted) return stopHere();
        throw error;
      }
      const toolUses = toolUsesOf(response.content);
      if (response.stopReason !== 'tool_use' || toolUses.length === 0) {
        return {
          reply: textOf(response.content).trim(),
          toolRuns,
          usage,
          ...(folded ? { summary: folded } : {}),
        };
      }
      messages.push({ role: 'assistant', content: response.content });
      pending = toolUses;
    }
  } catch (error) {
    throw new TurnFailure(error, toolRuns, usage);
  }
}

/**
 * The start of a fresh turn: memories recalled, the history fitted to the window (older turns
 * folded into the summary by a model call when it does not fit), the system prompt and messages.
 */
async function prepare(
  input: TurnInput,
  deps: TurnDeps,
  call: (system: string, messages: ModelMessage[], withTools: boolean) => Promise<ModelResponse>,
  window: number,
  toolSpecTokens: number,
): Promise<{
  prompt: string;
  messages: ModelMessage[];
  folded?: { text: string; through: string };
}> {
  const { agent } = input;
  // Recall is best-effort: a turn goes on without memories rather than fail on them.
  const memories = agent.memory.enabled
    ? await deps.tools.memory
        .search(agent.tenantId, agent.id, input.userText, {
          k: 5,
          ...(input.customer ? { customerId: input.customer.id } : {}),
        })
        .catch(() => [])
    : [];
  let summary = input.summary;
  let folded: { text: string; through: string } | undefined;
  const promptBudget = Math.floor(window * 0.5);
  const system = () =>
    buildSystemPrompt(
      {
        agent,
        ...(input.customer ? { customer: input.customer } : {}),
        memories,
        ...(summary ? { summary } : {}),
        ...(input.taskContext ? { taskContext: input.taskContext } : {}),
      },
      promptBudget,
    );
  const reserved = agent.model.maxTokens + toolSpecTokens + estimateTokens(input.userText) + 64;
  // Room is kept for a summary that may replace the current one when history is folded below.
  const historyBudget =
    window -
    reserved -
    estimateTokens(system()) -
    Math.max(0, SUMMARY_MAX_TOKENS - estimateTokens(summary ?? ''));
  if (historyBudget < 0) {
    throw new TurnError(
      'CONTEXT_TOO_LARGE',
      `the prompt does not fit ${agent.model.modelId}'s ${window}-token window`,
    );
  }
  const { keep, fold } = fitHistory(input.history, historyBudget);
  if (fold.length > 0) {
    const transcript = fold.map((m) => `${m.role}: ${m.content}`).join('\n');
    const response = await call(
      SUMMARY_INSTRUCTION,
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: `${summary ? `Earlier summary: ${summary}\n\n` : ''}${transcript}` },
          ],
        },
      ],
      false,
    );
    summary =
      textOf(response.content)
        .trim()
        .slice(0, SUMMARY_MAX_TOKENS * 4) || summary;
    folded = { text: summary ?? '', through: (fold[fold.length - 1] as Message).id };
  }
  return {
    prompt: system(),
    messages: [
      ...keep.map((m) => ({ role: m.role, content: [{ type: 'text' as const, text: m.content }] })),
      { role: 'user', content: [{ type: 'text', text: input.userText }] },
    ],
    ...(folded ? { folded } : {}),
  };
}
