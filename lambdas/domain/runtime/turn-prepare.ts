import type { Message } from '../conversations/conversations';
import { estimateTokens, fitHistory } from './context-window';
import { type ModelMessage, type ModelResponse, textOf } from './model';
import { buildSystemPrompt } from './prompt';
import { type TurnDeps, TurnError, type TurnInput } from './turn-types';

/** A running summary is cut to this size, so folding can never push the prompt past the window. */
const SUMMARY_MAX_TOKENS = 300;

const SUMMARY_INSTRUCTION =
  'Summarise the conversation below for your own later reference: facts about the customer, requests, decisions and open items. Plain prose, at most 150 words.';

/**
 * The start of a fresh turn: memories recalled, the history fitted to the window (older turns
 * folded into the summary by a model call when it does not fit), the system prompt and messages.
 */
export async function prepare(
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
