/**
 * What model calls cost, in USD per 1,000 tokens: the one price table. Unknown models cost
 * nothing here and are reported as unpriced, never guessed.
 */
export interface ModelPrice {
  readonly inputPer1k: number;
  readonly outputPer1k: number;
}

export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  // Amazon Bedrock on-demand list prices (us-east-1).
  'anthropic.claude-3-5-haiku-20241022-v1:0': { inputPer1k: 0.0008, outputPer1k: 0.004 },
  'anthropic.claude-3-5-sonnet-20241022-v2:0': { inputPer1k: 0.003, outputPer1k: 0.015 },
  'anthropic.claude-3-haiku-20240307-v1:0': { inputPer1k: 0.00025, outputPer1k: 0.00125 },
  'amazon.nova-micro-v1:0': { inputPer1k: 0.000035, outputPer1k: 0.00014 },
  'amazon.nova-lite-v1:0': { inputPer1k: 0.00006, outputPer1k: 0.00024 },
  'amazon.nova-pro-v1:0': { inputPer1k: 0.0008, outputPer1k: 0.0032 },
  'meta.llama3-1-8b-instruct-v1:0': { inputPer1k: 0.00022, outputPer1k: 0.00022 },
  'amazon.titan-embed-text-v2:0': { inputPer1k: 0.00002, outputPer1k: 0 },
  // OpenAI list prices.
  'gpt-4o-mini': { inputPer1k: 0.00015, outputPer1k: 0.0006 },
  'gpt-4o': { inputPer1k: 0.0025, outputPer1k: 0.01 },
  // The offline scripted model is free.
  'scripted-v1': { inputPer1k: 0, outputPer1k: 0 },
};

/** Cross-region inference profiles (`us.`, `eu.`, `apac.`, `global.`) are priced as their base model. */
function baseModelId(modelId: string): string {
  return modelId.replace(/^(us|eu|apac|global)\./, '');
}

export function priceOf(modelId: string): ModelPrice | undefined {
  return MODEL_PRICES[baseModelId(modelId)];
}

/** USD cost of a call; `priced: false` when the model is not in the table (cost reported as 0). */
export function costOf(
  modelId: string,
  inputTokens: number,
  outputTokens: number,
): { usd: number; priced: boolean } {
  const price = priceOf(modelId);
  if (!price) return { usd: 0, priced: false };
  const usd = (inputTokens / 1000) * price.inputPer1k + (outputTokens / 1000) * price.outputPer1k;
  return { usd: Math.round(usd * 1e8) / 1e8, priced: true };
}
