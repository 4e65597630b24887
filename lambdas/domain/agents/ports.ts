import type { Page, PageRequest } from '../shared/pagination';
import type { Agent, AgentListQuery, AgentStatus, AgentVersion } from './schemas';

/** Raw counters kept on the agent record; later issues add to them atomically. */
export interface AgentCounters {
  readonly executions: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly tokens: number;
  readonly costUsd: number;
  readonly latencyMs: number;
  /** Thumbs up / down people gave the agent's messages (WebSocket `agent_feedback`). */
  readonly feedbackUp: number;
  readonly feedbackDown: number;
}

export interface AgentRepository {
  /** Writes the agent and its first version in one transaction. */
  create(agent: Agent, firstVersion: AgentVersion): Promise<void>;
  /** Undefined for unknown and for soft-deleted agents. */
  get(tenantId: string, agentId: string): Promise<Agent | undefined>;
  list(tenantId: string, query: AgentListQuery): Promise<Page<Agent>>;
  /**
   * Replaces the configuration and appends `version` atomically, only if the stored version is
   * still `expectedVersion` (ConflictError otherwise: no lost update).
   */
  saveConfig(next: Agent, version: AgentVersion, expectedVersion: number): Promise<void>;
  /**
   * Moves status only if it is one of `from`; otherwise reports the status it found. `reason`
   * becomes `statusReason` (e.g. why provisioning failed); without it any previous one is removed.
   */
  transition(
    tenantId: string,
    agentId: string,
    from: readonly AgentStatus[],
    to: AgentStatus,
    actorId: string,
    reason?: string,
  ): Promise<{ agent: Agent } | { refusedFrom: AgentStatus }>;
  softDelete(tenantId: string, agentId: string, actorId: string): Promise<void>;
  /** Whether the tenant has this agent soft-deleted (so the runtime can say why it does not answer). */
  isDeleted(tenantId: string, agentId: string): Promise<boolean>;
  listVersions(tenantId: string, agentId: string, page: PageRequest): Promise<Page<AgentVersion>>;
  getVersion(tenantId: string, agentId: string, version: number): Promise<AgentVersion | undefined>;
  getCounters(tenantId: string, agentId: string): Promise<AgentCounters>;
}
