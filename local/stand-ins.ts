import { provideLocalStandIns } from '../lambdas/composition/stand-ins';
import type { ChannelSecrets } from '../lambdas/domain/channels/model';

let channelSecrets: ChannelSecrets | undefined;

/**
 * Gives the composition (lambdas/composition/stand-ins.ts) local mode's stand-ins. Each is required
 * on first use, so a process that never asks for one (most test files) does not load it.
 */
export function useLocalStandIns(): void {
  provideLocalStandIns({
    approvalWorkflow: () =>
      (require('./approval-workflow') as typeof import('./approval-workflow')).localApprovalWorkflow(),
    scriptedModel: () => {
      const { ScriptedModel } =
        require('../lambdas/adapters/local/scripted-model') as typeof import('../lambdas/adapters/local/scripted-model');
      return new ScriptedModel();
    },
    hashEmbedder: (dimensions) => {
      const { HashEmbedder } =
        require('../lambdas/adapters/local/hash-embedder') as typeof import('../lambdas/adapters/local/hash-embedder');
      return new HashEmbedder(dimensions);
    },
    outbox: () =>
      (
        require('../lambdas/adapters/local/local-outbox') as typeof import('../lambdas/adapters/local/local-outbox')
      ).localOutbox,
    identity: (options) => {
      const { LocalIdentityProvider } =
        require('../lambdas/adapters/local/local-identity') as typeof import('../lambdas/adapters/local/local-identity');
      return new LocalIdentityProvider(options);
    },
    tenantCredentials: () =>
      (
        require('../lambdas/adapters/local/local-tenant-credentials') as typeof import('../lambdas/adapters/local/local-tenant-credentials')
      ).localTenantCredentials(),
    devCalls: () => (require('./voice-emulator') as typeof import('./voice-emulator')).localDevCalls(),
    provisioningWorkflow: () =>
      (
        require('./provisioning-workflow') as typeof import('./provisioning-workflow')
      ).localProvisioningWorkflow(),
    provisioningProviders: () =>
      (
        require('./provisioning-providers') as typeof import('./provisioning-providers')
      ).localProvisioningProviders().providers,
    connectionPoster: () =>
      (require('./websocket-server') as typeof import('./websocket-server')).localConnections,
    tokenVerifier: (issuer, audience) =>
      (
        require('../lambdas/adapters/local/local-token-verifier') as typeof import('../lambdas/adapters/local/local-token-verifier')
      ).localTokenVerifier(issuer, audience),
    channelSecrets: () => {
      if (!channelSecrets) {
        const { LocalChannelSecrets } =
          require('../lambdas/adapters/local/local-channel-secrets') as typeof import('../lambdas/adapters/local/local-channel-secrets');
        const { currentTenant } =
          require('../lambdas/composition/tenant-scope') as typeof import('../lambdas/composition/tenant-scope');
        channelSecrets = new LocalChannelSecrets({ currentTenant });
      }
      return channelSecrets;
    },
  });
}
