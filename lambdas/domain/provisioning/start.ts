import { createHash } from 'node:crypto';
import { getAgent } from '../agents/agents';
import { refuseNewChannelAddresses } from '../channels/agent-channels';
import { CHANNEL_KINDS, checkedAddress, checkedCredentials } from '../channels/settings';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { newId } from '../shared/ids';
import type { Page } from '../shared/pagination';
import type { Principal } from '../shared/principal';
import {
  type ChannelRequest,
  type PlannedChannel,
  type ProvisionAgentInput,
  type ProvisionableChannel,
  type ProvisionChannelInput,
  type ProvisioningListFilter,
  type ProvisioningRecord,
  type ProvisioningSummary,
  type ProvisioningView,
  planSteps,
  provisioningSummary,
  provisioningView,
  type SimulatedFailures,
} from './model';
import type { ProvisioningDeps, ProvisioningWorkflowPort } from './ports';

export interface StartDeps extends ProvisioningDeps {
  readonly workflow: ProvisioningWorkflowPort;
}

export interface ProvisioningStarted {
  readonly provisioningId: string;
  readonly agentId: string;
  readonly status: ProvisioningRecord['status'];
}

/** The channel as the plan keeps it, checked as `PUT …/channels/{type}` checks it (400 naming the field). */
function checkedChannel(
  request: ChannelRequest,
  field: string,
): { planned: Omit<PlannedChannel, 'credentialsStaged'>; credentials?: Record<string, string> } {
  if (request.type === 'voice') return { planned: { type: 'voice', phoneNumber: request.phoneNumber } };
  const kind = CHANNEL_KINDS[request.type];
  let address: string | undefined;
  let credentials: Record<string, string> | undefined;
  try {
    address = checkedAddress(request.type, request.address);
    credentials =
      request.credentials === undefined ? undefined : checkedCredentials(request.type, request.credentials);
  } catch (error) {
    if (error instanceof ValidationError) {
      // Re-anchored on this channel's place in the request.
      const issue = error.issues[0];
      throw ValidationError.forField(
        `${field}.${issue?.field.replace(/^body\./, '') ?? 'address'}`,
        issue?.message ?? error.message,
      );
    }
    throw error;
  }
  // Slack's address is the workspace auth.test names: optional. The others need theirs.
  if (kind.address && address === undefined && request.type !== 'slack') {
    throw ValidationError.forField(`${field}.address`, `is required to provision ${request.type}`);
  }
  if (kind.credentials.length > 0 && credentials === undefined) {
    throw ValidationError.forField(
      `${field}.credentials`,
      `${kind.credentials.join(', ')} are required for ${request.type}`,
    );
  }
  return {
    planned: { type: request.type, ...(address ? { address } : {}) },
    ...(credentials ? { credentials } : {}),
  };
}

function checkSimulate(deps: ProvisioningDeps, simulate: SimulatedFailures | undefined, field: string): void {
  if (simulate && !deps.allowSimulatedFailures) {
    throw ValidationError.forField(field, 'simulated failures are for local mode only');
  }
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url');
}

async function startRecord(
  deps: StartDeps,
  actor: Principal,
  draft: Omit<
    ProvisioningRecord,
    | 'channels'
    | 'steps'
    | 'requestHash'
    | 'version'
    | 'createdAt'
    | 'updatedAt'
    | 'status'
    | 'createdBy'
    | 'tenantId'
  >,
  channels: readonly {
    planned: Omit<PlannedChannel, 'credentialsStaged'>;
    credentials?: Record<string, string>;
  }[],
  request: unknown,
  idempotencyKey: string | undefined,
): Promise<ProvisioningStarted> {
  const at = (deps.now?.() ?? new Date()).toISOString();
  const planned: PlannedChannel[] = channels.map((c) => ({
    ...c.planned,
    credentialsStaged: c.credentials !== undefined,
  }));
  const record: ProvisioningRecord = {
    ...draft,
    tenantId: actor.tenantId,
    status: 'running',
    channels: planned,
    steps: planSteps(draft.kind, planned),
    ...(deps.voiceFlow && planned.some((c) => c.type === 'voice') ? { voiceFlow: deps.voiceFlow } : {}),
    // The credentials count towards the hash (a retry with other credentials is another request), never stored.
    requestHash: hashOf({ request, kind: draft.kind }),
    createdBy: actor.userId,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  // Staged under the provisioning's own secret path before anything can read them.
  for (const channel of channels) {
    if (channel.credentials) {
      await deps.channels.secrets.put(actor.tenantId, record.id, channel.planned.type, channel.credentials);
    }
  }
  const stored = await deps.records.create(record, idempotencyKey);
  if ('existing' in stored) {
    for (const channel of channels) {
      if (channel.credentials)
        await deps.channels.secrets.delete(actor.tenantId, record.id, channel.planned.type);
    }
    if (stored.existing.requestHash !== record.requestHash) {
      throw new ConflictError('Idempotency-Key was used for a different provisioning request', {
        provisioningId: stored.existing.id,
      });
    }
    // The same request again: the first one's workflow (starting it again starts nothing; one that
    // has ended, or never started, is not run again).
    if (stored.existing.status === 'running') {
      await deps.workflow.start({ tenantId: actor.tenantId, provisioningId: stored.existing.id });
    }
    return {
      provisioningId: stored.existing.id,
      agentId: stored.existing.agentId,
      status: stored.existing.status,
    };
  }
  try {
    await deps.workflow.start({ tenantId: actor.tenantId, provisioningId: record.id });
  } catch (error) {
    // Nothing ran: the record says so (never `running` forever) and the staged credentials go.
    const reason =
      `the provisioning workflow could not be started: ${error instanceof Error ? error.message : String(error)}`.slice(
        0,
        500,
      );
    await deps.records.save({
      ...record,
      status: 'failed',
      failure: { reason },
      finishedAt: (deps.now?.() ?? new Date()).toISOString(),
      updatedAt: (deps.now?.() ?? new Date()).toISOString(),
      version: record.version + 1,
    });
    for (const channel of channels) {
      if (channel.credentials)
        await deps.channels.secrets.delete(actor.tenantId, record.id, channel.planned.type);
    }
    throw error;
  }
  return { provisioningId: record.id, agentId: record.agentId, status: record.status };
}

/** `POST /v1/agents/provision`: 202 with the ids; the workflow creates the agent and its channels. */
export async function provisionAgent(
  deps: StartDeps,
  actor: Principal,
  input: ProvisionAgentInput,
  idempotencyKey?: string,
): Promise<ProvisioningStarted> {
  checkSimulate(deps, input.simulate, 'body.simulate');
  refuseNewChannelAddresses(input.agent.channels);
  if (input.agent.locationId && !(await deps.locations.get(actor.tenantId, input.agent.locationId))) {
    throw ValidationError.forField(
      'body.agent.locationId',
      `location ${input.agent.locationId} does not exist`,
    );
  }
  const channels = input.channels.map((c, i) => checkedChannel(c, `body.channels.${i}`));
  return startRecord(
    deps,
    actor,
    {
      id: newId('provisioning'),
      agentId: newId('agent'),
      agentName: input.agent.name,
      kind: 'agent',
      agentConfig: input.agent,
      ...(input.simulate ? { simulate: input.simulate } : {}),
    },
    channels,
    { agent: input.agent, channels: input.channels, simulate: input.simulate },
    idempotencyKey,
  );
}

/** `POST /v1/agents/{id}/channels/{type}/provision`: one channel of an existing agent, same workflow. */
export async function provisionChannel(
  deps: StartDeps,
  actor: Principal,
  agentId: string,
  type: ProvisionableChannel,
  input: ProvisionChannelInput,
  idempotencyKey?: string,
): Promise<ProvisioningStarted> {
  checkSimulate(deps, input.simulate, 'body.simulate');
  const agent = await getAgent(deps, actor, agentId);
  if (agent.status === 'provisioning') {
    throw new ConflictError('The agent is being provisioned; wait for that to finish', {
      status: agent.status,
    });
  }
  if (agent.channels.some((c) => c.type === type && c.address !== undefined)) {
    throw new ConflictError(`The agent already has ${type} set up; remove it first to provision it again`, {
      field: 'type',
    });
  }
  if (type === 'voice' && (input.address !== undefined || input.credentials !== undefined)) {
    throw ValidationError.forField(
      'body.address',
      'voice numbers are claimed by the platform: give phoneNumber',
    );
  }
  if (type !== 'voice' && input.phoneNumber !== undefined) {
    throw ValidationError.forField('body.phoneNumber', `is for voice only, not ${type}`);
  }
  const request = (
    type === 'voice'
      ? { type, phoneNumber: input.phoneNumber ?? { countryCode: 'US', type: 'DID' } }
      : { type, address: input.address, credentials: input.credentials }
  ) as ChannelRequest;
  const channel = checkedChannel(request, 'body');
  return startRecord(
    deps,
    actor,
    {
      id: newId('provisioning'),
      agentId,
      agentName: agent.name,
      kind: 'channel',
      ...(input.simulate ? { simulate: input.simulate } : {}),
    },
    [channel],
    { agentId, type, input },
    idempotencyKey,
  );
}

/** `GET /v1/provisioning`: the tenant's provisionings, newest first (one agent's, one status). */
export async function listProvisionings(
  deps: Pick<ProvisioningDeps, 'records'>,
  actor: Principal,
  filter: ProvisioningListFilter,
): Promise<Page<ProvisioningSummary>> {
  const page = await deps.records.list(actor.tenantId, filter);
  return { ...page, items: page.items.map(provisioningSummary) };
}

/** `GET /v1/provisioning/{id}`. */
export async function getProvisioning(
  deps: Pick<ProvisioningDeps, 'records'>,
  actor: Principal,
  provisioningId: string,
): Promise<ProvisioningView> {
  const record = await deps.records.get(actor.tenantId, provisioningId);
  if (!record) throw new NotFoundError('Provisioning', provisioningId);
  return provisioningView(record);
}
