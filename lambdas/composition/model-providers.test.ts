import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { BedrockConverseModel } from '../adapters/bedrock/converse-model';
import { ScriptedModel } from '../adapters/local/scripted-model';
import { OpenAiCompatibleModel } from '../adapters/openai-compatible/openai-model';
import { AppError, ValidationError } from '../domain/shared/errors';
import {
  createModelProviders,
  getModelProvider,
  loadModelProviderConfig,
  ModelProviderUnavailableError,
} from './model-providers';

describe('loadModelProviderConfig', () => {
  it('defaults Bedrock to the Lambda region and leaves OpenAI-compatible unconfigured', () => {
    expect(loadModelProviderConfig({})).toEqual({ bedrock: { region: 'us-east-1' } });
    expect(loadModelProviderConfig({ AWS_REGION: 'eu-west-1' })).toEqual({
      bedrock: { region: 'eu-west-1' },
    });
    expect(
      loadModelProviderConfig({ AWS_REGION: 'eu-west-1', BEDROCK_REGION: 'us-west-2' }).bedrock.region,
    ).toBe('us-west-2');
  });

  it('reads an OpenAI-compatible server, its key and timeout', () => {
    expect(loadModelProviderConfig({ OPENAI_BASE_URL: 'http://localhost:11434/v1' }).openAi).toEqual({
      baseUrl: 'http://localhost:11434/v1',
      timeoutMs: 30_000,
    });
    expect(
      loadModelProviderConfig({
        OPENAI_BASE_URL: 'https://api.groq.com/openai/v1',
        OPENAI_API_KEY: 'gsk_secret',
        OPENAI_TIMEOUT_MS: '5000',
      }).openAi,
    ).toEqual({ baseUrl: 'https://api.groq.com/openai/v1', apiKey: 'gsk_secret', timeoutMs: 5000 });
  });

  it('treats empty variables as unset', () => {
    expect(loadModelProviderConfig({ OPENAI_BASE_URL: '', OPENAI_API_KEY: '', BEDROCK_REGION: '' })).toEqual({
      bedrock: { region: 'us-east-1' },
    });
  });

  it.each([
    [{ OPENAI_BASE_URL: 'localhost:11434' }, 'OPENAI_BASE_URL'],
    [{ OPENAI_BASE_URL: 'ftp://models.example.com' }, 'OPENAI_BASE_URL'],
    [{ OPENAI_BASE_URL: 'http://localhost:11434/v1', OPENAI_TIMEOUT_MS: 'soon' }, 'OPENAI_TIMEOUT_MS'],
    [{ OPENAI_BASE_URL: 'http://localhost:11434/v1', OPENAI_TIMEOUT_MS: '10' }, 'OPENAI_TIMEOUT_MS'],
  ])('fails fast naming the variable: %j', (env, variable) => {
    expect(() => loadModelProviderConfig(env)).toThrow(
      new RegExp(`^Invalid model provider configuration: ${variable}`),
    );
  });

  it('refuses a key with no server to send it to, without repeating the key', () => {
    let message = '';
    try {
      loadModelProviderConfig({ OPENAI_API_KEY: 'sk-live-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('OPENAI_API_KEY is set without OPENAI_BASE_URL');
    expect(message).not.toContain('sk-live-secret');
  });
});

describe('createModelProviders', () => {
  it('builds each provider once, on first use', () => {
    const bedrockClient = jest.fn(() => new BedrockRuntimeClient({ region: 'us-east-1', maxAttempts: 1 }));
    const providers = createModelProviders({ bedrock: { region: 'us-east-1' } }, { bedrockClient });
    expect(bedrockClient).not.toHaveBeenCalled();

    const bedrock = providers.get('bedrock');
    expect(bedrock).toBeInstanceOf(BedrockConverseModel);
    expect(bedrock.name).toBe('bedrock');
    expect(providers.get('bedrock')).toBe(bedrock);
    expect(bedrockClient).toHaveBeenCalledTimes(1);

    const scripted = providers.get('scripted');
    expect(scripted).toBeInstanceOf(ScriptedModel);
    expect(providers.get('scripted')).toBe(scripted);
  });

  it('turns the SDK retries off on the Bedrock client it builds, so attempts are counted once', async () => {
    const bedrock = createModelProviders({ bedrock: { region: 'eu-central-1' } }).get('bedrock');
    const client = (bedrock as unknown as { client: BedrockRuntimeClient }).client;
    await expect(client.config.maxAttempts()).resolves.toBe(1);
    await expect(client.config.region()).resolves.toBe('eu-central-1');
  });

  it('serves OpenAI-compatible only when a server is configured', () => {
    const configured = createModelProviders({
      bedrock: { region: 'us-east-1' },
      openAi: { baseUrl: 'http://localhost:11434/v1', timeoutMs: 30_000 },
    });
    expect(configured.get('openai-compatible')).toBeInstanceOf(OpenAiCompatibleModel);
    expect(configured.configured).toEqual(['bedrock', 'openai-compatible', 'scripted']);

    const unconfigured = createModelProviders({ bedrock: { region: 'us-east-1' } });
    expect(unconfigured.configured).toEqual(['bedrock', 'scripted']);
    const failure = (() => {
      try {
        unconfigured.get('openai-compatible');
      } catch (error) {
        return error;
      }
    })();
    expect(failure).toBeInstanceOf(ModelProviderUnavailableError);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({
      statusCode: 409,
      code: 'MODEL_PROVIDER_UNAVAILABLE',
      message:
        'model.provider: openai-compatible is not available on this platform (OPENAI_BASE_URL is not set)',
      details: { provider: 'openai-compatible' },
    });
  });

  it('rejects a provider name it does not know, naming it', () => {
    const providers = createModelProviders({ bedrock: { region: 'us-east-1' } });
    expect(() => providers.get('gpt-5')).toThrow(ValidationError);
    expect(() => providers.get('gpt-5')).toThrow(
      'model.provider: unknown provider "gpt-5" (expected one of bedrock, openai-compatible, scripted)',
    );
    // Not fooled by names every object has.
    expect(() => providers.get('toString')).toThrow(ValidationError);
  });
});

describe('getModelProvider', () => {
  it('serves the providers configured from the environment at load', async () => {
    const scripted = getModelProvider('scripted');
    expect(scripted).toBe(getModelProvider('scripted'));
    const response = await scripted.converse({
      modelId: 'scripted-v1',
      system: '',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
      tools: [],
      temperature: 0,
      maxTokens: 64,
      topP: 1,
    });
    expect(response.stopReason).toBe('end_turn');
  });
});
