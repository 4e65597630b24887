import type { LocalIdentityOptions } from '../adapters/local/local-identity';
import type { LocalOutbox } from '../adapters/local/local-outbox';
import type { ApprovalWorkflowPort } from '../domain/approvals/model';
import type { ChannelSecrets } from '../domain/channels/model';
import type { ProvisioningProviders, ProvisioningWorkflowPort } from '../domain/provisioning/ports';
import type { ConnectionPoster } from '../domain/realtime/ports';
import type { Embedder, ModelProvider } from '../domain/runtime/model';
import type { IdentityProvider } from '../domain/tenants/ports';
import type { DevCalls } from '../domain/voice/dev-calls';
import type { TenantCredentialProvider } from './tenant-clients';

/**
 * Local mode's stand-ins for what AWS provides: the approval workflow run in-process from the ASL
 * file, the scripted model, the hashing embedder, the local outbox (outbound sends and the `local`
 * payments provider), the local identity issuer, the local credential provider and the local
 * channel secret store. The composition never requires them: local
 * mode (local/stand-ins.ts, called by local/platform.ts, the jest setup, the bench and the billing
 * CLI) gives them here before any handler loads. A Lambda never does, so no deployed bundle holds
 * them, and asking for one there fails with a clear message instead.
 */
export interface LocalStandIns {
  readonly approvalWorkflow: () => ApprovalWorkflowPort;
  readonly scriptedModel: () => ModelProvider;
  readonly hashEmbedder: (dimensions: number) => Embedder;
  readonly outbox: () => LocalOutbox;
  readonly identity: (options: LocalIdentityOptions) => IdentityProvider;
  /** The local credential provider: its clients check every request against the tenant-access policy. */
  readonly tenantCredentials: () => TenantCredentialProvider;
  /** The local channel secret store (one per process, shared by every handler, like the outbox). */
  readonly channelSecrets: () => ChannelSecrets;
  /** Local mode's phone: the Connect + Lex emulator walking the contact flow (`POST /v1/dev/calls`). */
  readonly devCalls?: () => DevCalls;
  /** The provision-agent workflow run in-process from its ASL file. */
  readonly provisioningWorkflow: () => ProvisioningWorkflowPort;
  /** Connect, Twilio, Slack, Meta and SES as provisioning sees them, recording every call. */
  readonly provisioningProviders: () => ProvisioningProviders;
  /** The local server's WebSocket connections (`/v1/ws`), as API Gateway's PostToConnection reaches them. */
  readonly connectionPoster: () => ConnectionPoster;
  /** Verifies the local issuer's ID tokens for the `$connect` check (Cognito's, with aws-jwt-verify, on AWS). */
  readonly tokenVerifier: (
    issuer: string,
    audience: string,
  ) => (token: string) => Promise<Record<string, unknown>>;
}

let provided: LocalStandIns | undefined;

export function provideLocalStandIns(standIns: LocalStandIns): void {
  provided = standIns;
}

/** The stand-ins local mode gave, or undefined (every Lambda). */
export function localStandIns(): LocalStandIns | undefined {
  return provided;
}

/** The stand-in `what` needs; throws, naming the setting that asked for it, when there is none. */
export function requireLocalStandIn<K extends keyof LocalStandIns>(
  name: K,
  setting: string,
): LocalStandIns[K] {
  const standIns = provided;
  if (!standIns) throw new Error(`${setting} is for local mode and tests only`);
  return standIns[name];
}
