import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { declaredTenantOf } from '../../composition/declared-agents';
import { isTenantId } from '../../composition/tenant-scope';
import { agentCreateBody } from '../../domain/agents/schemas';
import {
  applyDeclaredAgent,
  applyDeclaredTenant,
  type DeclaredRecordsDeps,
  removeDeclaredAgent,
} from '../../domain/provisioning/declared';
import { lazySchema } from '../../domain/shared/zod';
import { logger } from '../../observability';

/**
 * The records of a declared tenant and its agents (lib/stacks/declared-tenant-stack.ts), as
 * CloudFormation custom resources whose ServiceToken is this function, through the domain
 * (lambdas/domain/provisioning/declared.ts). `Kind: tenant` (one per stack): Create/Update create or
 * rename the tenant; Delete keeps it. `Kind: agent`: Create/Update write the agent and its voice
 * route; Delete soft-deletes the agent and releases its number's route. The answer goes to the presigned ResponseURL, as
 * CloudFormation expects of a Lambda-backed custom resource; a failure is answered FAILED with its
 * reason (never left to CloudFormation's one-hour timeout).
 *
 * CloudFormation passes every property as a string: the agent's configuration comes as JSON.
 */

const E164 = /^\+[1-9]\d{6,14}$/;

const tenantIdSchema = () => z.string().check(z.refine(isTenantId, 'must be a tenant id'));

/** `Kind` says which: the stack's one tenant resource, or an agent's (which depends on it). */
export const declaredRecordsProperties = lazySchema(() =>
  z.discriminatedUnion('Kind', [
    z.object({
      Kind: z.literal('tenant'),
      TenantId: tenantIdSchema(),
      TenantName: z.string().check(z.minLength(1), z.maxLength(120)),
      TenantSlug: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{2,62}$/)),
      OwnerEmail: z.string().check(z.includes('@')),
      OwnerName: z.string().check(z.minLength(1), z.maxLength(120)),
    }),
    z.object({
      Kind: z.literal('agent'),
      TenantId: tenantIdSchema(),
      AgentId: z.string().check(z.regex(/^agt_[0-9A-HJKMNP-TV-Z]{26}$/)),
      AgentConfig: z.string(),
      VoiceNumber: z.optional(z.string().check(z.regex(E164, 'must be an E.164 number'))),
    }),
  ]),
);
export type DeclaredRecordsProperties = z.output<ReturnType<typeof declaredRecordsProperties>>;

export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Readonly<Record<string, string>>;
}

/** PUTs the answer to the presigned S3 URL (no content type: it is part of the signature). */
export async function sendResponse(url: string, response: CustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  const answer = await fetch(url, {
    method: 'PUT',
    body,
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
  });
  if (!answer.ok) throw new Error(`CloudFormation response URL answered ${answer.status}`);
}

function parseProperties(raw: unknown): DeclaredRecordsProperties {
  const parsed = declaredRecordsProperties().safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `Invalid properties: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(properties)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

function parseAgentConfig(json: string) {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('AgentConfig: must be JSON');
  }
  const parsed = agentCreateBody().safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `AgentConfig: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

async function act(
  deps: DeclaredRecordsDeps,
  allowedTenant: string | undefined,
  event: CloudFormationCustomResourceEvent,
): Promise<{ physicalId: string; data?: Record<string, string> }> {
  if (event.RequestType === 'Delete') {
    // The tenant's resource: the tenant and its data outlive its declaration.
    if (isTenantId(event.PhysicalResourceId)) return { physicalId: event.PhysicalResourceId };
    // A resource whose create failed before it was named has nothing to delete.
    const [tenantId, agentId] = event.PhysicalResourceId.split('/');
    if (!tenantId || !agentId || !isTenantId(tenantId) || !/^agt_/.test(agentId)) {
      return { physicalId: event.PhysicalResourceId };
    }
    if (allowedTenant && tenantId !== allowedTenant) {
      throw new Error(`this function serves tenant ${allowedTenant} only`);
    }
    const voiceNumber = (event.ResourceProperties as { VoiceNumber?: string }).VoiceNumber;
    await removeDeclaredAgent(deps, {
      tenantId,
      agentId,
      ...(voiceNumber && E164.test(voiceNumber) ? { voiceNumber } : {}),
    });
    return { physicalId: event.PhysicalResourceId };
  }
  const props = parseProperties(event.ResourceProperties);
  if (allowedTenant && props.TenantId !== allowedTenant) {
    throw new Error(`TenantId: this function serves tenant ${allowedTenant} only`);
  }
  if (props.Kind === 'tenant') {
    await applyDeclaredTenant(deps, {
      id: props.TenantId,
      name: props.TenantName,
      slug: props.TenantSlug,
      owner: { email: props.OwnerEmail, name: props.OwnerName },
    });
    return { physicalId: props.TenantId, data: { TenantId: props.TenantId } };
  }
  const previous =
    event.RequestType === 'Update'
      ? (event.OldResourceProperties as { VoiceNumber?: string; TenantId?: string; AgentId?: string })
      : undefined;
  const result = await applyDeclaredAgent(
    deps,
    {
      tenantId: props.TenantId,
      agentId: props.AgentId,
      config: parseAgentConfig(props.AgentConfig),
      ...(props.VoiceNumber ? { voiceNumber: props.VoiceNumber } : {}),
    },
    // Only the same agent's old number is this update's to release; a new agent id is a new
    // resource (its physical id changes), and CloudFormation deletes the old one separately.
    previous?.AgentId === props.AgentId && previous.TenantId === props.TenantId
      ? previous.VoiceNumber
      : undefined,
  );
  return {
    physicalId: `${props.TenantId}/${props.AgentId}`,
    data: { AgentId: result.agentId, Status: result.status },
  };
}

export function declaredAgentRecordsHandler(
  deps: () => DeclaredRecordsDeps,
  options: { readonly respond?: typeof sendResponse; readonly env?: NodeJS.ProcessEnv } = {},
) {
  const respond = options.respond ?? sendResponse;
  return async (event: CloudFormationCustomResourceEvent): Promise<void> => {
    const allowedTenant = declaredTenantOf(options.env ?? process.env);
    const base = {
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    };
    const fallbackId =
      event.RequestType === 'Create' ? `failed-${event.RequestId}` : event.PhysicalResourceId;
    let response: CustomResourceResponse;
    try {
      const { physicalId, data } = await act(deps(), allowedTenant, event);
      logger.info('Declared agent records', { requestType: event.RequestType, physicalId });
      response = {
        ...base,
        Status: 'SUCCESS',
        PhysicalResourceId: physicalId,
        ...(data ? { Data: data } : {}),
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.warn('Declared agent records failed', { requestType: event.RequestType, reason });
      response = { ...base, Status: 'FAILED', Reason: reason.slice(0, 1000), PhysicalResourceId: fallbackId };
    }
    await respond(event.ResponseURL, response);
  };
}

export const handler = declaredAgentRecordsHandler(() =>
  (
    require('../../composition/declared-agents') as typeof import('../../composition/declared-agents')
  ).buildDeclaredRecordsDeps(),
);
