import type { ChannelSecrets, SecretChannel } from '../../domain/channels/model';

export interface LocalChannelSecretsOptions {
  /**
   * The tenant scope in force (composition/tenant-scope.ts `currentTenant`). Given, the store acts
   * as the tenant-access role does on AWS: inside tenant T's scope only T's secrets are reachable,
   * and outside any scope none, so code that forgets its scope fails here as it would there.
   */
  readonly currentTenant?: () => string | undefined;
}

/** What AWS answers when a role reaches for a secret its policy does not cover. */
export class LocalSecretAccessDenied extends Error {
  override readonly name = 'AccessDeniedException';
}

/**
 * Local mode's channel secret store: in this process's memory, one copy of each object per
 * (tenant, agent, channel), so nothing outside can change what was stored. Values are kept in a
 * #private map, out of util.inspect and JSON.stringify.
 */
export class LocalChannelSecrets implements ChannelSecrets {
  readonly #secrets = new Map<string, Readonly<Record<string, string>>>();
  private readonly currentTenant: (() => string | undefined) | undefined;

  constructor(options: LocalChannelSecretsOptions = {}) {
    this.currentTenant = options.currentTenant;
  }

  async get(
    tenantId: string,
    agentId: string,
    channel: SecretChannel,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    const stored = this.#secrets.get(this.key(tenantId, agentId, channel));
    return stored ? Object.freeze({ ...stored }) : undefined;
  }

  async put(
    tenantId: string,
    agentId: string,
    channel: SecretChannel,
    credentials: Readonly<Record<string, string>>,
  ): Promise<void> {
    this.#secrets.set(this.key(tenantId, agentId, channel), Object.freeze({ ...credentials }));
  }

  async delete(tenantId: string, agentId: string, channel: SecretChannel): Promise<void> {
    this.#secrets.delete(this.key(tenantId, agentId, channel));
  }

  private key(tenantId: string, agentId: string, channel: string): string {
    if (this.currentTenant) {
      const scope = this.currentTenant();
      if (scope !== tenantId) {
        throw new LocalSecretAccessDenied(
          scope === undefined
            ? `channel secrets of ${tenantId} are reachable only in that tenant's scope`
            : `tenant ${scope}'s scope may not reach channel secrets of ${tenantId}`,
        );
      }
    }
    return `${tenantId}/${agentId}/${channel}`;
  }
}
