import {
  checkChannelsPatch,
  refuseNewChannelAddresses,
  withCurrentChannelSetup,
} from '../channels/agent-channels';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Page, PageRequest } from '../shared/pagination';
import type { Principal } from '../shared/principal';
import type { LocationRepository } from '../tenants/ports';
import { allowedFrom, LIFECYCLE_COMMANDS, type LifecycleCommand, transitionError } from './lifecycle';
import type { AgentRepository } from './ports';
import {
  type Agent,
  type AgentConfig,
  type AgentCreateInput,
  type AgentListQuery,
  type AgentPatch,
  type AgentStats,
  type AgentVersion,
  configOf,
} from './schemas';

export interface AgentDeps {
  readonly agents: AgentRepository;
  readonly locations: LocationRepository;
}

async function assertLocation(deps: AgentDeps, tenantId: string, locationId: string | undefined | null) {
  if (locationId && !(await deps.locations.get(tenantId, locationId))) {
    throw ValidationError.forField('body.locationId', `location ${locationId} does not exist`);
  }
}

function versionRecord(agent: Agent, reason: string): AgentVersion {
  return {
    agentId: agent.id,
    version: agent.version,
    config: configOf(agent),
    createdAt: agent.updatedAt,
    createdBy: agent.updatedBy,
    reason,
  };
}

async function createFromConfig(
  deps: AgentDeps,
  actor: Principal,
  config: AgentConfig,
  reason: string,
  identity: { readonly id: string; readonly status: 'draft' | 'provisioning' } = {
    id: newId('agent'),
    status: 'draft',
  },
) {
  await assertLocation(deps, actor.tenantId, config.locationId);
  const now = new Date().toISOString();
  const agent: Agent = {
    ...config,
    id: identity.id,
    tenantId: actor.tenantId,
    status: identity.status,
    version: 1,
    createdAt: now,
    updatedAt: now,
    createdBy: actor.userId,
    updatedBy: actor.userId,
  };
  await deps.agents.create(agent, versionRecord(agent, reason));
  return agent;
}

export function createAgent(deps: AgentDeps, actor: Principal, input: AgentCreateInput): Promise<Agent> {
  refuseNewChannelAddresses(input.channels);
  return createFromConfig(deps, actor, input, 'created');
}

/**
 * The provisioning workflow's first step: the agent under the id the provisioning request was
 * answered with, straight into `provisioning`. A retried step finds it created and returns it.
 */
export async function createProvisionedAgent(
  deps: AgentDeps,
  actor: Principal,
  agentId: string,
  config: AgentConfig,
): Promise<Agent> {
  const existing = await deps.agents.get(actor.tenantId, agentId);
  if (existing) return existing;
  refuseNewChannelAddresses(config.channels);
  return createFromConfig(deps, actor, config, 'provisioned', { id: agentId, status: 'provisioning' });
}

export async function getAgent(
  deps: Pick<AgentDeps, 'agents'>,
  actor: Principal,
  agentId: string,
): Promise<Agent> {
  const agent = await deps.agents.get(actor.tenantId, agentId);
  if (!agent) throw new NotFoundError('Agent', agentId);
  return agent;
}

export function listAgents(deps: Pick<AgentDeps, 'agents'>, actor: Principal, query: AgentListQuery) {
  return deps.agents.list(actor.tenantId, query);
}

function applyPatch(config: AgentConfig, patch: AgentPatch): AgentConfig {
  const next: Record<string, unknown> = { ...config };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else if (value !== undefined) next[key] = value;
  }
  return next as AgentConfig;
}

/**
 * The agent as `config` makes it, one version on from `current`, and that version's record: what
 * `saveConfig` (or a write that adds to its transaction, e.g. a channel setting) stores.
 */
export function nextConfigVersion(
  actor: Principal,
  current: Agent,
  config: AgentConfig,
  reason: string,
): { next: Agent; version: AgentVersion } {
  const next: Agent = {
    ...config,
    id: current.id,
    tenantId: current.tenantId,
    status: current.status,
    ...(current.statusReason === undefined ? {} : { statusReason: current.statusReason }),
    version: current.version + 1,
    createdAt: current.createdAt,
    createdBy: current.createdBy,
    updatedAt: new Date().toISOString(),
    updatedBy: actor.userId,
  };
  return { next, version: versionRecord(next, reason) };
}

export function assertExpectedVersion(current: Agent, expectedVersion: number): void {
  if (expectedVersion !== current.version) {
    throw new ConflictError(
      `if-match: agent is at version ${current.version}, not ${expectedVersion}; re-read it and retry`,
      { currentVersion: current.version },
    );
  }
}

async function saveNewConfig(
  deps: AgentDeps,
  actor: Principal,
  current: Agent,
  config: AgentConfig,
  reason: string,
  expectedVersion: number,
): Promise<Agent> {
  assertExpectedVersion(current, expectedVersion);
  const { next, version } = nextConfigVersion(actor, current, config, reason);
  await deps.agents.saveConfig(next, version, current.version);
  return next;
}

/**
 * Updates the configuration, keeping the previous one as a version. With `expectedVersion`
 * (the `If-Match` header) a stale writer gets 409 at once; without it, two writers racing from
 * the same read still cannot both win: the loser's conditional write fails with 409.
 */
export async function updateAgent(
  deps: AgentDeps,
  actor: Principal,
  agentId: string,
  patch: AgentPatch,
  expectedVersion?: number,
): Promise<Agent> {
  const current = await getAgent(deps, actor, agentId);
  if (patch.channels) checkChannelsPatch(current.channels, patch.channels);
  await assertLocation(deps, actor.tenantId, patch.locationId);
  return saveNewConfig(
    deps,
    actor,
    current,
    applyPatch(configOf(current), patch),
    'updated',
    expectedVersion ?? current.version,
  );
}

export async function rollbackAgent(
  deps: AgentDeps,
  actor: Principal,
  agentId: string,
  toVersion: number,
  expectedVersion?: number,
): Promise<Agent> {
  const current = await getAgent(deps, actor, agentId);
  const target = await deps.agents.getVersion(actor.tenantId, agentId, toVersion);
  if (!target) throw new NotFoundError(`Version ${toVersion} of agent`, agentId);
  // A version from before its location was deleted: restored without it, and the version says so,
  // rather than refusing a rollback over a field the caller never sent.
  const { locationId, ...restored } = target.config;
  const config = { ...restored, channels: withCurrentChannelSetup(current.channels, restored.channels) };
  const locationGone = locationId !== undefined && !(await deps.locations.get(actor.tenantId, locationId));
  return saveNewConfig(
    deps,
    actor,
    current,
    locationGone || locationId === undefined ? config : { ...config, locationId },
    locationGone
      ? `rolled back to ${toVersion} (its location ${locationId} no longer exists and was left out)`
      : `rolled back to ${toVersion}`,
    expectedVersion ?? current.version,
  );
}

export async function cloneAgent(
  deps: AgentDeps,
  actor: Principal,
  agentId: string,
  name?: string,
): Promise<Agent> {
  const source = await getAgent(deps, actor, agentId);
  const { locationId, ...config } = configOf(source);
  // The clone copies the location; one deleted since (a reference from before deletions checked for
  // users) is dropped rather than failing a request that never named it.
  const location = locationId && (await deps.locations.get(actor.tenantId, locationId)) ? { locationId } : {};
  // Channel addresses belong to one agent; the clone gets its own when it is provisioned.
  const channels = config.channels.map(({ address: _address, ...channel }) => channel);
  return createFromConfig(
    deps,
    actor,
    { ...config, ...location, channels, name: name ?? `${source.name} (copy)`.slice(0, 100) },
    `cloned from ${source.id} v${source.version}`,
  );
}

export async function deleteAgent(deps: AgentDeps, actor: Principal, agentId: string): Promise<void> {
  await getAgent(deps, actor, agentId);
  await deps.agents.softDelete(actor.tenantId, agentId, actor.userId);
}

export async function runLifecycleCommand(
  deps: AgentDeps,
  actor: Principal,
  agentId: string,
  command: LifecycleCommand,
): Promise<Agent> {
  await getAgent(deps, actor, agentId);
  const result = await deps.agents.transition(
    actor.tenantId,
    agentId,
    allowedFrom(command),
    LIFECYCLE_COMMANDS[command].to,
    actor.userId,
  );
  if ('refusedFrom' in result) {
    throw new ConflictError(transitionError(command, result.refusedFrom), { status: result.refusedFrom });
  }
  return result.agent;
}

export async function listAgentVersions(
  deps: AgentDeps,
  actor: Principal,
  agentId: string,
  page: PageRequest,
): Promise<Page<AgentVersion>> {
  await getAgent(deps, actor, agentId);
  return deps.agents.listVersions(actor.tenantId, agentId, page);
}

export async function getAgentVersion(
  deps: AgentDeps,
  actor: Principal,
  agentId: string,
  version: number,
): Promise<AgentVersion> {
  await getAgent(deps, actor, agentId);
  const found = await deps.agents.getVersion(actor.tenantId, agentId, version);
  if (!found) throw new NotFoundError(`Version ${version} of agent`, agentId);
  return found;
}

/** Averages over recorded executions; all zero until the runtime records the first one. */
export async function getAgentStats(deps: AgentDeps, actor: Principal, agentId: string): Promise<AgentStats> {
  await getAgent(deps, actor, agentId);
  const c = await deps.agents.getCounters(actor.tenantId, agentId);
  const per = (total: number) => (c.executions === 0 ? 0 : total / c.executions);
  return {
    executions: c.executions,
    succeeded: c.succeeded,
    failed: c.failed,
    successRate: per(c.succeeded),
    avgTokens: per(c.tokens),
    avgCostUsd: per(c.costUsd),
    avgLatencyMs: per(c.latencyMs),
    feedback: { up: c.feedbackUp, down: c.feedbackDown },
  };
}
