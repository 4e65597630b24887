import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { ExpiringCache } from '../expiring-cache';

/** What a client is given as `credentials`: the SDK calls it whenever it needs to sign. */
export interface TenantCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface TenantRoleCredentialsOptions {
  /** The tenant-access role (env TENANT_ACCESS_ROLE_ARN). */
  readonly roleArn: string;
  /** The session tag the role's policy matches: `tenant` (TENANT_SESSION_TAG). */
  readonly sessionTag: string;
  /** 900 s is STS's minimum and the role's sessions need no more: a warm container refreshes. */
  readonly durationSeconds?: number;
  /** Credentials are refreshed this long before they expire (5 minutes). */
  readonly refreshBeforeMs?: number;
  /** Tenants whose credentials one container keeps; the least recently used go first. */
  readonly maxTenants?: number;
  readonly now?: () => number;
}

/**
 * Each tenant's credentials for the tenant-access role, assumed with the tenant as session tag so
 * that the role's policy (`dynamodb:LeadingKeys` `T#${aws:PrincipalTag/tenant}`...) lets them touch
 * that tenant's items and secrets only. Cached per tenant in this container until 5 minutes before
 * they expire; concurrent first calls for one tenant share one AssumeRole; a failure is not cached.
 */
export class TenantRoleCredentials {
  readonly #cache: ExpiringCache<TenantCredentials>;
  readonly #durationSeconds: number;
  readonly #refreshBeforeMs: number;
  readonly #now: () => number;
  /** AssumeRole calls made (the bench and the tests read it). */
  assumed = 0;

  constructor(
    private readonly sts: Pick<STSClient, 'send'>,
    private readonly options: TenantRoleCredentialsOptions,
  ) {
    this.#durationSeconds = options.durationSeconds ?? 900;
    this.#refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
    this.#cache = new ExpiringCache({ maxEntries: options.maxTenants ?? 500, now: this.#now });
  }

  /** The tenant's credentials: from the cache, or from one AssumeRole shared by every caller waiting. */
  get(tenantId: string): Promise<TenantCredentials> {
    return this.#cache.get(
      tenantId,
      () => this.#assume(tenantId),
      (credentials) => {
        const expires = credentials.expiration?.getTime() ?? this.#now() + this.#durationSeconds * 1000;
        return expires - this.#refreshBeforeMs - this.#now();
      },
    );
  }

  /** The provider a client of this tenant is built with. */
  providerFor(tenantId: string): () => Promise<TenantCredentials> {
    return () => this.get(tenantId);
  }

  get cachedTenants(): number {
    return this.#cache.size;
  }

  async #assume(tenantId: string): Promise<TenantCredentials> {
    this.assumed += 1;
    const output = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.options.roleArn,
        // 2..64 characters of [\w+=,.@-]: tenant ids are `ten_` + letters and digits (tenant-scope.ts).
        RoleSessionName: `tenant-${tenantId}`.slice(0, 64),
        DurationSeconds: this.#durationSeconds,
        Tags: [{ Key: this.options.sessionTag, Value: tenantId }],
      }),
    );
    const credentials = output.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
      throw new Error(`AssumeRole for tenant ${tenantId} returned no credentials`);
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
      ...(credentials.Expiration ? { expiration: credentials.Expiration } : {}),
    };
  }
}
