import type * as z from 'zod/mini';
import type { Embedder } from '../domain/runtime/model';
import { lazyValue } from '../domain/shared/zod';
import { ENV } from './env-names';
import { EMBEDDERS, environmentSlice, parseEnvironment } from './environment';
import { requireLocalStandIn } from './stand-ins';

/** The embedding model on AWS; the CDK grants `bedrock:InvokeModel` on exactly this one. */
export const TITAN_EMBEDDING_MODEL_ID = 'amazon.titan-embed-text-v2:0';

export { EMBEDDERS };
export type EmbedderKind = (typeof EMBEDDERS)[number];

const embedderConfigSchema = () => environmentSlice(ENV.EMBEDDER, ENV.EMBEDDING_DIMENSIONS, ENV.AWS_REGION);

export type EmbedderConfig = z.infer<ReturnType<typeof embedderConfigSchema>>;

/** Parsed from the environment; fails with the variable's name, like `loadRuntimeConfig`. */
export function loadEmbedderConfig(env: NodeJS.ProcessEnv = process.env): EmbedderConfig {
  return parseEnvironment(embedderConfigSchema(), 'embedder', env);
}

export function createEmbedder(config: EmbedderConfig): Embedder {
  if (config.EMBEDDER === 'hash') {
    // The offline stand-in, given by local mode (composition/stand-ins.ts); no Lambda has it.
    return requireLocalStandIn('hashEmbedder', 'EMBEDDER=hash')(config.EMBEDDING_DIMENSIONS);
  }
  // Required here, not imported above: local mode never loads the Bedrock client. The SDK itself
  // is imported (not required) by the adapter, so bundles keep only the command it sends.
  const { TitanEmbedder } =
    require('../adapters/bedrock/titan-embedder') as typeof import('../adapters/bedrock/titan-embedder');
  return TitanEmbedder.inRegion(config.AWS_REGION, {
    modelId: TITAN_EMBEDDING_MODEL_ID,
    dimensions: config.EMBEDDING_DIMENSIONS as 256 | 512 | 1024,
  });
}

/** The process's embedder, from the environment, made once. */
export const processEmbedder = lazyValue(() => createEmbedder(loadEmbedderConfig()));
