import { runTool, specOf, type ToolContext, type ToolRunResult, toolsFor } from '../tools/registry';
import { contextWindowOf, estimateTokens } from './context-window';
import { type ContentBlock, type ModelMessage, type ModelRequest, type ModelResponse, textOf } from './model';
import { CALL_GRACE_MS, StepClock } from './turn-deadline';
import { prepare } from './turn-prepare';
import { type TurnDeps, TurnError, TurnFailure, type TurnInput, type TurnResult } from './turn-types';

// What callers import from here; the pieces live in their own files.
export { CALL_GRACE_MS, type TurnDeadline } from './turn-deadline';
export {
  type TurnActions,
  type TurnCheckpoint,
  type TurnDeps,
  TurnError,
  TurnFailure,
  type TurnInput,
  type TurnResult,
  type TurnUsage,
} from './turn-types';

/** How many model calls one turn may make while the model keeps asking for tools. */
export const MAX_TOOL_ROUNDS = 5;
/** Tool output beyond this is cut before it goes back to the model. */
const MAX_TOOL_RESULT_CHARS = 8_000;

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
