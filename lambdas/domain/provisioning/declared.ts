import { createProvisionedAgent, nextConfigVersion } from '../agents/agents';
import type { AgentRepository } from '../agents/ports';
import { type Agent, type AgentConfig, configOf } from '../agents/schemas';
import type { ChannelDirectory } from '../channels/model';
import { ConflictError, NotFoundError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import type { DataScopes } from '../shared/scopes';
import { createTenantRecords, newTenantWithOwner } from '../tenants/new-tenant';
import type { LocationRepository, TenantRepository } from '../tenants/ports';

/**
 * Agents declared in the environment's config (lib/config.ts `declaredTenants`): a deploy creates or
 * updates their records through the same use cases as the API and the provisioning workflow, and
 * removing one from the config soft-deletes it. The Connect resources (number, flow, association)
 * are CloudFormation's; this writes only what the table holds: the tenant (with its owner record),
 * the agent, and the voice number's route and `channels` entry.
 */

export interface DeclaredRecordsDeps {
  readonly tenants: Pick<
    TenantRepository,
    'get' | 'claimSlug' | 'releaseSlug' | 'createWithOwner' | 'rename'
  >;
  readonly agents: AgentRepository;
  readonly locations: LocationRepository;
  readonly directory: ChannelDirectory;
  readonly scopes: DataScopes;
}

export interface DeclaredTenant {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly owner: { readonly email: string; readonly name: string };
}

export interface DeclaredAgent {
  /** Its tenant, which `applyDeclaredTenant` has made. */
  readonly tenantId: string;
  readonly agentId: string;
  /** The agent's configuration, already parsed with the create schema; its `channels` are ignored. */
  readonly config: AgentConfig;
  /** The E.164 number CloudFormation claimed for it (AWS::Connect::PhoneNumber `Address`). */
  readonly voiceNumber?: string;
}

/** Who the records say made them: the deploy, not a user. */
export const DECLARED_ACTOR_ID = 'system:declared-config';

const actorFor = (tenantId: string): Principal => ({
  userId: DECLARED_ACTOR_ID,
  tenantId,
  role: 'owner',
});

/** JSON with sorted keys: two configurations compare equal whatever order their fields came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

const withoutChannels = (config: AgentConfig) => ({ ...config, channels: [] });

/**
 * Creates the declared tenant (its slug claimed, its owner's record) or renames it. One resource per
 * tenant stack runs this, before any of its agents': the agents are created in parallel, and a
 * tenant written by each of them would race on the slug.
 */
export async function applyDeclaredTenant(
  deps: Pick<DeclaredRecordsDeps, 'tenants' | 'scopes'>,
  declared: DeclaredTenant,
): Promise<void> {
  const existing = await deps.scopes.tenant(declared.id, () => deps.tenants.get(declared.id));
  if (existing) {
    if (existing.name !== declared.name) {
      await deps.scopes.tenant(declared.id, () =>
        deps.tenants.rename(declared.id, declared.name, existing.version),
      );
    }
    return;
  }
  // As registration writes them (the owner's record; no identity-provider user here).
  const { tenant, owner } = newTenantWithOwner(declared, declared.owner, new Date().toISOString());
  await createTenantRecords(deps, tenant, owner);
}

/** Saves `channels`/config changes as a new version, re-reading on a concurrent write. */
async function saveAgent(
  deps: DeclaredRecordsDeps,
  actor: Principal,
  agentId: string,
  change: (current: Agent) => AgentConfig | undefined,
  reason: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await deps.agents.get(actor.tenantId, agentId);
    if (!current) throw new NotFoundError('Agent', agentId);
    const config = change(current);
    if (!config) return;
    const { next, version } = nextConfigVersion(actor, current, config, reason);
    try {
      await deps.agents.saveConfig(next, version, current.version);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= 4) throw error;
    }
  }
}

function voiceEntryChange(current: Agent, address: string | undefined): AgentConfig | undefined {
  const others = current.channels.filter((c) => c.type !== 'voice');
  const now = current.channels.find((c) => c.type === 'voice');
  if (now?.address === address && (address !== undefined || now === undefined)) return undefined;
  const channels = address ? [...others, { type: 'voice' as const, enabled: true, address }] : others;
  return { ...configOf(current), channels };
}

/**
 * Creates or updates the declared agent of an existing tenant: safe to run again with the same input,
 * which changes nothing. `previousVoiceNumber` (an update's old properties) is released when the
 * number changed.
 */
export async function applyDeclaredAgent(
  deps: DeclaredRecordsDeps,
  declared: DeclaredAgent,
  previousVoiceNumber?: string,
): Promise<{ readonly agentId: string; readonly status: string }> {
  const tenantId = declared.tenantId;
  const actor = actorFor(tenantId);
  return deps.scopes.tenant(tenantId, async () => {
    if (!(await deps.tenants.get(tenantId))) throw new NotFoundError('Tenant', tenantId);
    const agentId = declared.agentId;
    const existing = await deps.agents.get(tenantId, agentId);
    if (!existing) {
      // A removed agent stays soft-deleted (its history kept): a declaration brings back none.
      if (await deps.agents.isDeleted(tenantId, agentId)) {
        throw new ConflictError(
          `agent ${agentId} was removed from the config and is deleted: declare it under a new id`,
        );
      }
      await createProvisionedAgent(deps, actor, agentId, withoutChannels(declared.config));
    } else {
      await saveAgent(
        deps,
        actor,
        agentId,
        (current) =>
          canonical(withoutChannels(configOf(current))) === canonical(withoutChannels(declared.config))
            ? undefined
            : { ...declared.config, channels: current.channels },
        'declared configuration changed',
      );
    }
    const route = (address: string) => ({ channel: 'voice' as const, address, tenantId, agentId });
    if (declared.voiceNumber) {
      if (!(await deps.directory.claim(route(declared.voiceNumber)))) {
        throw new ConflictError(`the number ${declared.voiceNumber} is routed to another agent`);
      }
    }
    await saveAgent(
      deps,
      actor,
      agentId,
      (current) => voiceEntryChange(current, declared.voiceNumber),
      declared.voiceNumber ? 'channel voice declared' : 'channel voice removed',
    );
    if (previousVoiceNumber && previousVoiceNumber !== declared.voiceNumber) {
      await deps.directory.release(route(previousVoiceNumber));
    }
    const moved = await deps.agents.transition(tenantId, agentId, ['provisioning'], 'active', actor.userId);
    return { agentId, status: 'agent' in moved ? moved.agent.status : moved.refusedFrom };
  });
}

/**
 * The agent left the config (or its stack is deleted): its number's route is released and the agent
 * soft-deleted. The tenant and its data stay. Safe to run again, and for an agent never created.
 */
export async function removeDeclaredAgent(
  deps: DeclaredRecordsDeps,
  ref: { readonly tenantId: string; readonly agentId: string; readonly voiceNumber?: string },
): Promise<void> {
  const { tenantId, agentId } = ref;
  await deps.scopes.tenant(tenantId, async () => {
    if (ref.voiceNumber) {
      await deps.directory.release({ channel: 'voice', address: ref.voiceNumber, tenantId, agentId });
    }
    try {
      await deps.agents.softDelete(tenantId, agentId, DECLARED_ACTOR_ID);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  });
}
