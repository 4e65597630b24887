import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { BedrockConverseModel } from '../adapters/bedrock/converse-model';
import type { RetryOptions } from '../adapters/retry';
import type { MODEL_PROVIDERS } from '../domain/agents/schemas';
import type { ModelProvider } from '../domain/runtime/model';
import { AppError, ValidationError } from '../domain/shared/errors';
import { lazyValue } from '../domain/shared/zod';
import { ENV } from './env-names';
import { environmentSlice, parseEnvironment } from './environment';
import { localStandIns } from './stand-ins';

export type ModelProviderName = (typeof MODEL_PROVIDERS)[number];

export interface ModelProviderConfig {
  readonly bedrock: { readonly region: string };
  /** Absent when no OpenAI-compatible server is configured. */
  readonly openAi?: { readonly baseUrl: string; readonly apiKey?: string; readonly timeoutMs: number };
}

const envSchema = () =>
  environmentSlice(
    ENV.AWS_REGION,
    ENV.BEDROCK_REGION,
    ENV.OPENAI_BASE_URL,
    ENV.OPENAI_API_KEY,
    ENV.OPENAI_TIMEOUT_MS,
  );

/**
 * Reads the providers' configuration from the environment; a bad value fails with the variable's
 * name (never its value: one of them is a secret). Empty variables count as unset, the way
 * `OPENAI_BASE_URL=` in a shell or a `.env` file is meant.
 */
export function loadModelProviderConfig(env: NodeJS.ProcessEnv = process.env): ModelProviderConfig {
  const vars = parseEnvironment(envSchema(), 'model provider', env, { emptyIsUnset: true });
  if (vars.OPENAI_API_KEY && !vars.OPENAI_BASE_URL) {
    // A key alone most likely means OpenAI, but sending a secret to a guessed host is not a default.
    throw new Error(
      'Invalid model provider configuration: OPENAI_API_KEY is set without OPENAI_BASE_URL (e.g. https://api.openai.com/v1)',
    );
  }
  return {
    bedrock: { region: vars.BEDROCK_REGION ?? vars.AWS_REGION },
    ...(vars.OPENAI_BASE_URL
      ? {
          openAi: {
            baseUrl: vars.OPENAI_BASE_URL,
            ...(vars.OPENAI_API_KEY ? { apiKey: vars.OPENAI_API_KEY } : {}),
            timeoutMs: vars.OPENAI_TIMEOUT_MS,
          },
        }
      : {}),
  };
}

/**
 * The agent asks for a provider this deployment has not been set up for. 409, not 400: the agent's
 * configuration is valid and the chat request too; they conflict with how the platform is
 * configured, and either changing the agent's provider or configuring the platform resolves it.
 */
export class ModelProviderUnavailableError extends AppError {
  constructor(provider: ModelProviderName, why: string) {
    super(
      409,
      'MODEL_PROVIDER_UNAVAILABLE',
      `model.provider: ${provider} is not available on this platform (${why})`,
      { provider },
    );
  }
}

export interface ModelProviders {
  /** The provider named by an agent's `model.provider`; the same instance on every call. */
  get(name: string): ModelProvider;
  /**
   * The providers usable here. Bedrock always is: its credentials come from the default chain and
   * are only looked for on the first call.
   */
  readonly configured: readonly ModelProviderName[];
}

export interface ModelProviderOverrides {
  /** Tests pass a client whose `send` is mocked. */
  readonly bedrockClient?: () => BedrockRuntimeClient;
  readonly retry?: RetryOptions;
}

/**
 * Providers are built on first use, the Bedrock client with them: a Lambda instance that only
 * serves scripted agents, or routes that never call a model, does not pay for its construction
 * (credential and endpoint resolution, a few ms) at cold start.
 */
export function createModelProviders(
  config: ModelProviderConfig,
  overrides: ModelProviderOverrides = {},
): ModelProviders {
  const { openAi } = config;
  const scriptedModel = localStandIns()?.scriptedModel;
  const retry = overrides.retry ?? {};
  const builders: Record<ModelProviderName, (() => ModelProvider) | undefined> = {
    bedrock: lazyValue(() => {
      const client =
        overrides.bedrockClient?.() ??
        // One attempt per send: BedrockConverseModel counts the retries, in one place.
        new BedrockRuntimeClient({ region: config.bedrock.region, maxAttempts: 1 });
      return new BedrockConverseModel(client, retry);
    }),
    'openai-compatible': openAi
      ? lazyValue(() => {
          // Required on first use: most deployments never load the OpenAI adapter at cold start.
          const { OpenAiCompatibleModel } =
            require('../adapters/openai-compatible/openai-model') as typeof import('../adapters/openai-compatible/openai-model');
          return new OpenAiCompatibleModel({ ...openAi, retry });
        })
      : undefined,
    // The scripted stand-in exists for local mode and tests, which give it (composition/stand-ins.ts).
    scripted: scriptedModel ? lazyValue(scriptedModel) : undefined,
  };
  const configured = (Object.keys(builders) as ModelProviderName[]).filter((name) => builders[name]);
  return {
    configured,
    get(name) {
      if (!Object.hasOwn(builders, name)) {
        throw ValidationError.forField(
          'model.provider',
          `unknown provider "${name}" (expected one of ${Object.keys(builders).join(', ')})`,
        );
      }
      const build = builders[name as ModelProviderName];
      if (!build) {
        throw name === 'scripted'
          ? new ModelProviderUnavailableError('scripted', 'it runs in local mode and tests only')
          : new ModelProviderUnavailableError(name as ModelProviderName, 'OPENAI_BASE_URL is not set');
      }
      return build();
    },
  };
}

/** Parsed once, when a Lambda (or the local server) loads this module: bad settings fail the cold start. */
const providers = createModelProviders(loadModelProviderConfig());

export function getModelProvider(name: string): ModelProvider {
  return providers.get(name);
}

export const configuredModelProviders: readonly ModelProviderName[] = providers.configured;
