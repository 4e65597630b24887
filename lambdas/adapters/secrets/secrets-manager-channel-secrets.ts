import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { ProviderError } from '../../domain/actions/ports';
import type { ChannelSecrets, SecretChannel } from '../../domain/channels/model';
import { awsRetryVerdict } from '../aws-errors';
import { ExpiringCache } from '../expiring-cache';
import { errorLike, errorName, RetriesExhaustedError, type RetryOptions, withRetries } from '../retry';
import { flatSecretValue, SECRET_NAME_SEGMENT, SECRETS_PROVIDER } from './secret-value';

const PROVIDER = SECRETS_PROVIDER;

const verdict = awsRetryVerdict(SecretsManagerServiceException, {
  transient: new Set(['ThrottlingException', 'InternalServiceError', 'ServiceUnavailableException']),
  final: new Set([
    'ResourceNotFoundException',
    'ResourceExistsException',
    'DecryptionFailure',
    'AccessDeniedException',
    'InvalidParameterException',
    'InvalidRequestException',
    'LimitExceededException',
    'EncryptionFailure',
  ]),
});

/** Tenant and agent ids and channel names become path segments: nothing that could add one. */
const SEGMENT = SECRET_NAME_SEGMENT;

/** What deleting a channel's secret does: scheduled (restorable) or gone at once. */
export type ChannelSecretDeletion = { readonly recoveryWindowDays: number } | 'force';

export interface SecretsManagerChannelSecretsOptions {
  /** Secrets are `${prefix}/tenants/<tenantId>/channels/<agentId>/<channel>` (TENANT_SECRETS_PREFIX). */
  readonly prefix: string;
  /** 7–30 days of recovery (the default: 7), or 'force' (no recovery). */
  readonly deletion?: ChannelSecretDeletion;
  /**
   * How long a process reuses a read secret: a webhook verifies every delivery with it. A change
   * made through this process is seen at once; another process sees it within this time.
   */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly retry?: RetryOptions;
  readonly now?: () => number;
}

/**
 * An agent's channel credentials in Secrets Manager, one JSON object of strings per (tenant,
 * agent, channel), under the tenant's own path so that the tenant-access role (which may only
 * touch `${prefix}/tenants/<its tenant>/*`) is what reads and writes them.
 *
 * No value ever reaches an error or a log: errors name the secret and the fault, and any text
 * coming back from the service is scrubbed of the values just written before it is passed on.
 */
export class SecretsManagerChannelSecrets implements ChannelSecrets {
  private readonly prefix: string;
  private readonly deletion: ChannelSecretDeletion;
  private readonly ttlMs: number;
  private readonly retry: RetryOptions;
  /** #private: left out of util.inspect and JSON.stringify, so logging the adapter shows no secret. */
  readonly #cache: ExpiringCache<Readonly<Record<string, string>> | undefined>;

  constructor(
    private readonly client: Pick<SecretsManagerClient, 'send'>,
    options: SecretsManagerChannelSecretsOptions,
  ) {
    this.prefix = options.prefix.replace(/\/+$/, '');
    const deletion = options.deletion ?? { recoveryWindowDays: 7 };
    if (deletion !== 'force' && !(deletion.recoveryWindowDays >= 7 && deletion.recoveryWindowDays <= 30)) {
      throw new Error('deletion.recoveryWindowDays must be 7 to 30 (Secrets Manager limits)');
    }
    this.deletion = deletion;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.#cache = new ExpiringCache({
      maxEntries: options.maxEntries ?? 1000,
      ...(options.now ? { now: options.now } : {}),
    });
    this.retry = options.retry ?? {};
  }

  /** The secret's name; exported through the class for the IAM tests and operators. */
  secretName(tenantId: string, agentId: string, channel: SecretChannel): string {
    for (const [what, value] of [
      ['tenant id', tenantId],
      ['agent id', agentId],
      ['channel', channel],
    ] as const) {
      if (!SEGMENT.test(value))
        throw new ProviderError(PROVIDER, false, `${what} must be a plain identifier`);
    }
    return `${this.prefix}/tenants/${tenantId}/channels/${agentId}/${channel}`;
  }

  async get(
    tenantId: string,
    agentId: string,
    channel: SecretChannel,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    const name = this.secretName(tenantId, agentId, channel);
    // "None" is not kept: a channel configured a moment later must verify at once.
    return this.#cache.get(
      name,
      () => this.load(name),
      (found) => (found ? this.ttlMs : 0),
    );
  }

  /**
   * Create-or-replace: a new version of an existing secret, else a new secret (tagged with its
   * tenant, agent and channel); a secret still in its recovery window is restored first. Two
   * first writers racing: the loser of CreateSecret writes a version instead.
   */
  async put(
    tenantId: string,
    agentId: string,
    channel: SecretChannel,
    credentials: Readonly<Record<string, string>>,
  ): Promise<void> {
    const name = this.secretName(tenantId, agentId, channel);
    const secretString = JSON.stringify(credentials);
    const values = Object.values(credentials);
    this.#cache.delete(name);
    const putVersion = () =>
      this.call(name, values, 'writing', () =>
        this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretString })),
      );
    try {
      await putVersion();
    } catch (error) {
      const code = errorName(providerCause(error));
      if (code === 'ResourceNotFoundException') {
        try {
          await this.call(name, values, 'creating', () =>
            this.client.send(
              new CreateSecretCommand({
                Name: name,
                SecretString: secretString,
                Description: `Channel credentials: ${channel} of agent ${agentId}`,
                Tags: [
                  { Key: 'tenant', Value: tenantId },
                  { Key: 'agent', Value: agentId },
                  { Key: 'channel', Value: channel },
                ],
              }),
            ),
          );
        } catch (createError) {
          if (errorName(providerCause(createError)) !== 'ResourceExistsException') throw createError;
          await putVersion();
        }
      } else if (code === 'InvalidRequestException' && /marked for deletion/i.test(messageOf(error))) {
        await this.call(name, values, 'restoring', () =>
          this.client.send(new RestoreSecretCommand({ SecretId: name })),
        );
        await putVersion();
      } else {
        throw error;
      }
    } finally {
      this.#cache.delete(name);
    }
  }

  /** Idempotent: a secret that is not there (or already scheduled for deletion) is fine. */
  async delete(tenantId: string, agentId: string, channel: SecretChannel): Promise<void> {
    const name = this.secretName(tenantId, agentId, channel);
    this.#cache.delete(name);
    try {
      await this.call(name, [], 'deleting', () =>
        this.client.send(
          new DeleteSecretCommand(
            this.deletion === 'force'
              ? { SecretId: name, ForceDeleteWithoutRecovery: true }
              : { SecretId: name, RecoveryWindowInDays: this.deletion.recoveryWindowDays },
          ),
        ),
      );
    } catch (error) {
      const code = errorName(providerCause(error));
      if (code === 'ResourceNotFoundException') return;
      if (code === 'InvalidRequestException' && /marked for deletion/i.test(messageOf(error))) return;
      throw error;
    }
  }

  private async load(name: string): Promise<Readonly<Record<string, string>> | undefined> {
    let secretString: string | undefined;
    try {
      const output = await this.call(name, [], 'reading', () =>
        this.client.send(new GetSecretValueCommand({ SecretId: name })),
      );
      secretString = output.SecretString;
    } catch (error) {
      const code = errorName(providerCause(error));
      if (code === 'ResourceNotFoundException') return undefined;
      // A secret in its recovery window reads as absent: its channel was deleted.
      if (code === 'InvalidRequestException' && /marked for deletion/i.test(messageOf(error)))
        return undefined;
      throw error;
    }
    return flatSecretValue(name, secretString);
  }

  /** One SDK call with retries; a failure becomes a ProviderError without any of `values`. */
  private async call<T>(
    name: string,
    values: readonly string[],
    doing: string,
    send: () => Promise<T>,
  ): Promise<T> {
    try {
      return await withRetries(send, verdict, this.retry);
    } catch (error) {
      throw failure(name, doing, error, values);
    }
  }
}

/** The SDK error a ProviderError of `call` was made from (kept off the error's enumerable fields). */
const causes = new WeakMap<object, unknown>();

function providerCause(error: unknown): unknown {
  return (typeof error === 'object' && error !== null && causes.get(error)) ?? error;
}

function messageOf(error: unknown): string {
  const message = errorLike(providerCause(error))?.message;
  return typeof message === 'string' ? message : '';
}

function scrub(text: string, values: readonly string[]): string {
  let clean = text;
  for (const value of values) {
    if (value.length >= 4) clean = clean.split(value).join('[redacted]');
  }
  return clean;
}

function failure(name: string, doing: string, error: unknown, values: readonly string[]): ProviderError {
  const last = error instanceof RetriesExhaustedError ? error.lastError : error;
  const message = errorLike(last)?.message;
  const detail = `${doing} ${name}: ${errorName(last) ?? 'error'}${typeof message === 'string' && message ? `: ${message}` : ''}`;
  const wrapped = new ProviderError(
    PROVIDER,
    error instanceof RetriesExhaustedError,
    scrub(error instanceof RetriesExhaustedError ? `${detail} (${error.message})` : detail, values),
    errorName(last),
  );
  causes.set(wrapped, last);
  return wrapped;
}
