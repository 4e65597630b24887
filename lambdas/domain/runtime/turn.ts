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
  type ModelUsage,
  type ToolSpec,
  textOf,
} from './model';
import { buildSystemPrompt } from './prompt';

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

/**
 * A turn that ran out of its time (a phone caller cannot wait): nothing more is started once the
 * deadline has passed, a model answer arriving after it is not used, and the execution records
 * TURN_TIMED_OUT with the calls that did finish (charged) and the rest of its tokens released.
 */
export class TurnTimedOutError extends AppError {
  constructor(deadline: number) {
    super(504, 'TURN_TIMED_OUT', `the turn ran out of time (deadline ${new Date(deadline).toISOString()})`);
  }
}

export interface TurnDeps {
  readonly model: ModelProvider;
  /** Epoch milliseconds after which the turn starts nothing more (see TurnTimedOutError). */
  readonly deadline?: number;
  readonly tools: Omit<ToolContext, 'agent' | 'tenantId' | 'customerId'>;
  readonly actions?: TurnActions;
}

export interface TurnUsage extends ModelUsage {
  readonly modelCalls: number;
}

export interface TurnResult {
  readonly reply: string;
  readonly toolRuns: readonly ToolRunResult[];
  readonly usage: TurnUsage;
  /** Set when older history was folded into the summary during this turn. */
  readonly summary?: { readonly text: string; readonly through: string };
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

/** The model's answer, or TurnTimedOutError at the deadline (the late answer is dropped). */
function withinDeadline<T>(deadline: number | undefined, work: Promise<T>): Promise<T> {
  if (deadline === undefined) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TurnTimedOutError(deadline)), Math.max(0, deadline - Date.now()));
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
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

/**
 * One agent turn: recall memories, assemble the prompt within the model's window (folding old
 * history into the summary when it no longer fits), then the bounded tool-use loop.
 */
export async function runTurn(deps: TurnDeps, input: TurnInput): Promise<TurnResult> {
  const { agent } = input;
  const usage = { inputTokens: 0, outputTokens: 0, modelCalls: 0 };
  const toolRuns: ToolRunResult[] = [];
  const tools = toolsFor(agent);
  const specs = [...tools.map(specOf), ...(deps.actions?.specs ?? [])];
  const toolContext: ToolContext = {
    ...deps.tools,
    tenantId: agent.tenantId,
    agent,
    ...(input.customer ? { customerId: input.customer.id } : {}),
  };
  const checkTime = () => {
    if (deps.deadline !== undefined && Date.now() >= deps.deadline)
      throw new TurnTimedOutError(deps.deadline);
  };
  const call = async (system: string, messages: ModelMessage[], withTools: boolean) => {
    checkTime();
    const response = await withinDeadline(
      deps.deadline,
      deps.model.converse({
        modelId: agent.model.modelId,
        system,
        messages,
        tools: withTools ? specs : [],
        temperature: agent.model.temperature,
        maxTokens: agent.model.maxTokens,
        topP: agent.model.topP,
        ...(agent.guardrail ? { guardrail: agent.guardrail } : {}),
      }),
    );
    usage.inputTokens += response.usage.inputTokens;
    usage.outputTokens += response.usage.outputTokens;
    usage.modelCalls += 1;
    return response;
  };

  try {
    const window = contextWindowOf(agent.model.modelId);
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
    const toolSpecTokens = estimateTokens(JSON.stringify(specs));
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

    const prompt = system();
    const messages: ModelMessage[] = [
      ...keep.map((m) => ({ role: m.role, content: [{ type: 'text' as const, text: m.content }] })),
      { role: 'user', content: [{ type: 'text', text: input.userText }] },
    ];
    for (let round = 1; round <= MAX_TOOL_ROUNDS; round++) {
      const used = estimateTokens(prompt) + toolSpecTokens + messageTokens(messages);
      if (used + agent.model.maxTokens > window) {
        throw new TurnError(
          'CONTEXT_TOO_LARGE',
          `tool results outgrew ${agent.model.modelId}'s ${window}-token window`,
        );
      }
      const response = await call(prompt, messages, specs.length > 0);
      const toolUses = response.content.filter(
        (block): block is Extract<ContentBlock, { type: 'toolUse' }> => block.type === 'toolUse',
      );
      if (response.stopReason !== 'tool_use' || toolUses.length === 0) {
        return {
          reply: textOf(response.content).trim(),
          toolRuns,
          usage,
          ...(folded ? { summary: folded } : {}),
        };
      }
      const results: ContentBlock[] = [];
      for (const use of toolUses) {
        // Past the deadline no tool or action starts: a timed-out turn has no side effect left behind it.
        checkTime();
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
        const text = JSON.stringify(run.status === 'succeeded' ? run.output : { error: run.error });
        results.push({
          type: 'toolResult',
          toolUseId: use.id,
          content:
            text.length > MAX_TOOL_RESULT_CHARS
              ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}…(truncated)`
              : text,
          ...(run.status === 'failed' ? { isError: true } : {}),
        });
      }
      messages.push({ role: 'assistant', content: response.content }, { role: 'user', content: results });
    }
    throw new TurnError(
      'TOOL_ROUNDS_EXCEEDED',
      `the model was still calling tools after ${MAX_TOOL_ROUNDS} rounds; the turn was stopped`,
    );
  } catch (error) {
    throw new TurnFailure(error, toolRuns, usage);
  }
}
