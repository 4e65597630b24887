import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { type CredentialsPort, ProviderError } from '../../domain/actions/ports';
import { awsRetryVerdict } from '../aws-errors';
import { ExpiringCache } from '../expiring-cache';
import { errorLike, errorName, RetriesExhaustedError, type RetryOptions, withRetries } from '../retry';
import { flatSecretValue, SECRET_NAME_SEGMENT, SECRETS_PROVIDER } from './secret-value';

const PROVIDER = SECRETS_PROVIDER;

const verdict = awsRetryVerdict(SecretsManagerServiceException, {
  transient: new Set(['ThrottlingException', 'InternalServiceError', 'ServiceUnavailableException']),
  // A missing secret is an answer ("this tenant has none"), not a fault to wait out.
  final: new Set([
    'ResourceNotFoundException',
    'DecryptionFailure',
    'AccessDeniedException',
    'InvalidParameterException',
    'InvalidRequestException',
  ]),
});

/** Tenant ids and provider names become path segments of the secret name: nothing that could add one. */
const SEGMENT = SECRET_NAME_SEGMENT;

export interface SecretsManagerCredentialsOptions {
  /** Secrets are `${prefix}/tenants/${tenantId}/${provider}`, e.g. prefix `agent-platform/dev`. */
  readonly prefix: string;
  /** How long a found secret is reused; rotation reaches a warm Lambda within it. */
  readonly ttlMs?: number;
  /** How long "this tenant has none" is reused: short, so a tenant that just added one waits little. */
  readonly negativeTtlMs?: number;
  /** Bounds the cache of a long-lived process serving many tenants. */
  readonly maxEntries?: number;
  readonly retry?: RetryOptions;
  /** Injected by tests. */
  readonly now?: () => number;
}

/**
 * Per-tenant provider credentials from Secrets Manager, one JSON object of strings per (tenant,
 * provider). Cached per Lambda instance: a GetSecretValue per message would cost latency and
 * money, and concurrent lookups of the same secret share one request. Failures are not cached.
 *
 * Neither the secret's value nor a parse error (JSON.parse quotes the text it choked on) ever goes
 * into an error or a log: only the secret's name, which holds no secret.
 */
export class SecretsManagerCredentials implements CredentialsPort {
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly retry: RetryOptions;
  /** A #private field: left out of util.inspect and JSON.stringify, so logging the adapter shows no secret. */
  readonly #cache: ExpiringCache<Readonly<Record<string, string>> | undefined>;

  constructor(
    /** Routed by tenant scope in the composition (composition/table.ts `tenantSecretsClient`). */
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    options: SecretsManagerCredentialsOptions,
  ) {
    this.prefix = options.prefix.replace(/\/+$/, '');
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 60_000;
    this.retry = options.retry ?? {};
    this.#cache = new ExpiringCache({
      maxEntries: options.maxEntries ?? 1000,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  async get<T extends Record<string, string>>(tenantId: string, provider: string): Promise<T | undefined> {
    if (!SEGMENT.test(tenantId) || !SEGMENT.test(provider)) {
      throw new ProviderError(PROVIDER, false, 'tenant id and provider must be plain identifiers');
    }
    return this.cached(`${tenantId}/${provider}`, `${this.prefix}/tenants/${tenantId}/${provider}`);
  }

  /**
   * A platform-level secret by its full name or ARN (e.g. the platform's own Stripe account), with
   * the same caching and the same care never to show its value.
   */
  async getPlatformSecret<T extends Record<string, string>>(secretId: string): Promise<T | undefined> {
    return this.cached(`platform:${secretId}`, secretId);
  }

  private async cached<T>(key: string, name: string): Promise<T | undefined> {
    const found = await this.#cache.get(
      key,
      () => this.load(name),
      (value) => (value ? this.ttlMs : this.negativeTtlMs),
    );
    return found as T | undefined;
  }

  /** Forgets every cached secret (tests; a rotation that must take effect at once). */
  clear(): void {
    this.#cache.clear();
  }

  private async load(name: string): Promise<Readonly<Record<string, string>> | undefined> {
    let secretString: string | undefined;
    try {
      const output = await withRetries(
        () => this.client.send(new GetSecretValueCommand({ SecretId: name })),
        verdict,
        this.retry,
      );
      secretString = output.SecretString;
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw failure(name, error);
    }
    return flatSecretValue(name, secretString);
  }
}

/** The SDK's messages name the secret and the fault, never its value. */
function failure(secretName: string, error: unknown): ProviderError {
  if (error instanceof RetriesExhaustedError) {
    return new ProviderError(
      PROVIDER,
      true,
      `reading ${secretName}: ${errorName(error.lastError) ?? 'error'} (${error.message})`,
      errorName(error.lastError),
    );
  }
  const message = errorLike(error)?.message;
  return new ProviderError(
    PROVIDER,
    false,
    `reading ${secretName}: ${errorName(error) ?? 'error'}${typeof message === 'string' && message ? `: ${message}` : ''}`,
    errorName(error),
  );
}

/** The client, built here so that bundles keep only the one command this adapter sends. */
export const secretsManagerClient = (config: SecretsManagerClientConfig): SecretsManagerClient =>
  new SecretsManagerClient(config);
