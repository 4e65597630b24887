/**
 * Token budgeting. Token counts are estimated (≈ 4 characters per token, rounded up), which
 * over-counts slightly for English: the budget errs on the side of fitting the model's window.
 */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

/** Context windows in tokens; an unknown model gets the smallest common window. */
const CONTEXT_WINDOWS: Readonly<Record<string, number>> = {
  'anthropic.claude-3-5-haiku-20241022-v1:0': 200_000,
  'anthropic.claude-3-5-sonnet-20241022-v2:0': 200_000,
  'anthropic.claude-3-haiku-20240307-v1:0': 200_000,
  'amazon.nova-micro-v1:0': 128_000,
  'amazon.nova-lite-v1:0': 300_000,
  'amazon.nova-pro-v1:0': 300_000,
  'meta.llama3-1-8b-instruct-v1:0': 128_000,
  'gpt-4o-mini': 128_000,
  'gpt-4o': 128_000,
  'scripted-v1': 8_000,
};
export const DEFAULT_CONTEXT_WINDOW = 8_000;

export function contextWindowOf(modelId: string): number {
  return CONTEXT_WINDOWS[modelId.replace(/^(us|eu|apac|global)\./, '')] ?? DEFAULT_CONTEXT_WINDOW;
}

/**
 * Splits history (oldest first) into what is sent verbatim — the newest messages that fit
 * `budget` — and what is older and must be folded into the running summary.
 */
export function fitHistory<T extends { content: string }>(
  history: readonly T[],
  budget: number,
): { keep: T[]; fold: T[] } {
  let used = 0;
  let firstKept = history.length;
  for (let i = history.length - 1; i >= 0; i--) {
    const cost = estimateTokens((history[i] as T).content) + 4;
    if (used + cost > budget) break;
    used += cost;
    firstKept = i;
  }
  return { keep: history.slice(firstKept), fold: history.slice(0, firstKept) };
}
