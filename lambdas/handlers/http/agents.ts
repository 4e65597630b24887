import { agentDeps, agentHttpDeps, channelSettingsDeps, webChatDeps } from '../../composition/agents';
import { provisioningStartDeps } from '../../composition/provisioning';
import { inTenantScope } from '../../composition/tenant-scope';
import {
  cloneAgent,
  createAgent,
  deleteAgent,
  getAgent,
  getAgentStats,
  getAgentVersion,
  listAgents,
  listAgentVersions,
  rollbackAgent,
  runLifecycleCommand,
  updateAgent,
} from '../../domain/agents/agents';
import { configureChannel } from '../../domain/channels/configure';
import { listChannels, releaseAgentChannels, removeChannel } from '../../domain/channels/manage';
import { releaseProvisionedResources } from '../../domain/provisioning/release';
import {
  getProvisioning,
  listProvisionings,
  provisionAgent,
  provisionChannel,
} from '../../domain/provisioning/start';
import { configureWebChat, getWebChat, releaseWebChat, rotateWebChat } from '../../domain/realtime/web-chat';
import { createHttpHandler, etag } from '../../http/http-handler';
import { idempotencyKey } from '../../http/request';
import { AGENT_ROUTES } from '../../http/routes/agents';

const deps = agentDeps;
const channels = channelSettingsDeps;

const withEtag = <T extends { version: number }>(agent: T) => ({ body: agent, headers: etag(agent) });

export const handler = createHttpHandler(
  AGENT_ROUTES,
  {
    'GET /v1/agents': async ({ principal, query }) => ({ body: await listAgents(deps, principal, query) }),
    'POST /v1/agents': async ({ principal, body }) => withEtag(await createAgent(deps, principal, body)),
    // Provisioning stages credentials in the tenant's secrets: in its scope.
    'POST /v1/agents/provision': async ({ principal, body, event }) => ({
      status: 202,
      body: await inTenantScope(principal.tenantId, () =>
        provisionAgent(provisioningStartDeps(), principal, body, idempotencyKey(event)),
      ),
    }),
    'POST /v1/agents/{id}/channels/{type}/provision': async ({ principal, params, body, event }) => ({
      status: 202,
      body: await inTenantScope(principal.tenantId, () =>
        provisionChannel(
          provisioningStartDeps(),
          principal,
          params.id,
          params.type,
          body,
          idempotencyKey(event),
        ),
      ),
    }),
    'GET /v1/provisioning': async ({ principal, query }) => ({
      body: await listProvisionings(provisioningStartDeps(), principal, query),
    }),
    'GET /v1/provisioning/{id}': async ({ principal, params }) => ({
      body: await getProvisioning(provisioningStartDeps(), principal, params.id),
    }),
    'GET /v1/agents/{id}': async ({ principal, params }) =>
      withEtag(await getAgent(deps, principal, params.id)),
    'PATCH /v1/agents/{id}': async ({ principal, params, body, expectedVersion }) =>
      withEtag(await updateAgent(deps, principal, params.id, body, expectedVersion)),
    'DELETE /v1/agents/{id}': async ({ principal, params }) => {
      await getAgent(deps, principal, params.id);
      // What provisioning made (numbers, flows, webhooks) goes first, through its own undos in
      // reverse; then the channels' addresses and credentials. Stopping an agent keeps both.
      await inTenantScope(principal.tenantId, async () => {
        await releaseProvisionedResources(provisioningStartDeps(), principal, params.id);
        await releaseAgentChannels(channels, principal, params.id);
      });
      await releaseWebChat(webChatDeps, principal, params.id);
      await deleteAgent(deps, principal, params.id);
      return {};
    },
    'POST /v1/agents/{id}/start': async ({ principal, params }) =>
      withEtag(await runLifecycleCommand(deps, principal, params.id, 'start')),
    'POST /v1/agents/{id}/pause': async ({ principal, params }) =>
      withEtag(await runLifecycleCommand(deps, principal, params.id, 'pause')),
    'POST /v1/agents/{id}/resume': async ({ principal, params }) =>
      withEtag(await runLifecycleCommand(deps, principal, params.id, 'resume')),
    'POST /v1/agents/{id}/stop': async ({ principal, params }) =>
      withEtag(await runLifecycleCommand(deps, principal, params.id, 'stop')),
    'POST /v1/agents/{id}/clone': async ({ principal, params, body }) =>
      withEtag(await cloneAgent(deps, principal, params.id, body.name)),
    'GET /v1/agents/{id}/versions': async ({ principal, params, query }) => ({
      body: await listAgentVersions(deps, principal, params.id, query),
    }),
    'GET /v1/agents/{id}/versions/{version}': async ({ principal, params }) => ({
      body: await getAgentVersion(deps, principal, params.id, params.version),
    }),
    'POST /v1/agents/{id}/versions/{version}/rollback': async ({ principal, params, expectedVersion }) =>
      withEtag(await rollbackAgent(deps, principal, params.id, params.version, expectedVersion)),
    'GET /v1/agents/{id}/stats': async ({ principal, params }) => ({
      body: await getAgentStats(deps, principal, params.id),
    }),
    // Channel credentials are the tenant's secrets: read and written in its scope (the directory
    // claim inside leaves it for the platform's, composition/channels.ts).
    'GET /v1/agents/{id}/channels': async ({ principal, params }) => ({
      body: await inTenantScope(principal.tenantId, () => listChannels(channels, principal, params.id)),
    }),
    'PUT /v1/agents/{id}/channels/{type}': async ({ principal, params, body, expectedVersion }) => ({
      body: await inTenantScope(principal.tenantId, () =>
        configureChannel(channels, principal, params.id, params.type, body, expectedVersion),
      ),
    }),
    // The signing secret is the tenant's: made and read in its scope (the key index is platform-level).
    'GET /v1/agents/{id}/web-chat': async ({ principal, params }) => ({
      body: await getWebChat(webChatDeps, principal, params.id),
    }),
    'PUT /v1/agents/{id}/web-chat': async ({ principal, params, body }) => ({
      body: await inTenantScope(principal.tenantId, () =>
        configureWebChat(webChatDeps, principal, params.id, body),
      ),
    }),
    'POST /v1/agents/{id}/web-chat/rotate': async ({ principal, params }) => ({
      body: await inTenantScope(principal.tenantId, () => rotateWebChat(webChatDeps, principal, params.id)),
    }),
    'DELETE /v1/agents/{id}/channels/{type}': async ({ principal, params, expectedVersion }) => {
      await inTenantScope(principal.tenantId, () =>
        removeChannel(channels, principal, params.id, params.type, expectedVersion),
      );
      return {};
    },
  },
  agentHttpDeps,
);
