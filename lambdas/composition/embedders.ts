import * as z from 'zod/mini';
import type { Embedder } from '../domain/runtime/model';
import { lazyValue } from '../domain/shared/zod';
import { requireLocalStandIn } from './stand-ins';

/** The embedding model on AWS; the CDK grants `bedrock:InvokeModel` on exactly this one. */
export const TITAN_EMBEDDING_MODEL_ID = 'amazon.titan-embed-text-v2:0';

export const EMBEDDERS = ['titan', 'hash'] as const;
export type EmbedderKind = (typeof EMBEDDERS)[number];

const embedderConfigSchema = () =>
  z.object({
    /** `titan` on AWS (the default); local mode sets `hash`. */
    EMBEDDER: z._default(z.enum(EMBEDDERS), 'titan'),
    EMBEDDING_DIMENSIONS: z._default(
      z.coerce
        .number()
        .check(z.refine((n) => n === 256 || n === 512 || n === 1024, 'must be 256, 512 or 1024')),
      512,
    ),
    AWS_REGION: z._default(z.string().check(z.minLength(1)), 'us-east-1'),
  });

export type EmbedderConfig = z.infer<ReturnType<typeof embedderConfigSchema>>;

/** Parsed from the environment; fails with the variable's name, like `loadRuntimeConfig`. */
export function loadEmbedderConfig(env: NodeJS.ProcessEnv = process.env): EmbedderConfig {
  const result = embedderConfigSchema().safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid embedder configuration: ${problems}`);
  }
  return result.data;
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
