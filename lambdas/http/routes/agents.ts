import {
  agentCloneBody,
  agentCreateBody,
  agentListQuery,
  agentPatchBody,
  agentResponse,
  agentStatsResponse,
  agentVersionResponse,
} from '../../domain/agents/schemas';
import {
  channelListResponse,
  channelPutBody,
  channelResponse,
  channelTypeParams,
} from '../../domain/channels/settings';
import {
  provisionAgentBody,
  provisionChannelBody,
  provisionChannelParams,
  provisioningListQuery,
  provisioningParams,
  provisioningResponse,
  provisioningStartedResponse,
  provisioningSummaryResponse,
} from '../../domain/provisioning/model';
import { webChatParams, webChatPutBody, webChatResponse } from '../../domain/realtime/web-chat';
import { pageQuerySchema } from '../../domain/shared/pagination';
import type { RouteGroup } from '../route-spec';
import { agentParams, pageOf, versionParams } from './shared';

const lifecycle = (summary: string) =>
  ({
    lambda: 'agents',
    permission: 'agents:operate',
    summary,
    params: agentParams,
    status: 200,
    response: agentResponse,
    errors: { 409: 'The agent’s status does not allow this move (`details.status` says which it is in)' },
  }) as const;

export const AGENT_ROUTES = {
  'POST /v1/agents/provision': {
    lambda: 'agents',
    permission: 'agents:write',
    summary:
      'Provision an agent on its channels in one request: the provisioning workflow creates the agent (provisioning), claims a voice number and its contact flow, points Twilio numbers, Telegram bots, Slack apps, Meta pages and SES at the platform, routes each address, then marks the agent active — or undoes what it did, in reverse, and marks the agent error. Credentials go to the tenant’s secrets at once and are never stored elsewhere or shown. Poll GET /v1/provisioning/{id}.',
    body: provisionAgentBody,
    status: 202,
    response: provisioningStartedResponse,
    idempotencyKey: 'optional',
    errors: {
      409: 'The Idempotency-Key was used for a different request (`details.provisioningId` names the first one)',
      502: 'The secret store failed while staging the credentials: nothing was started; safe to send again',
    },
  },
  'GET /v1/provisioning': {
    lambda: 'agents',
    permission: 'agents:read',
    summary:
      'The tenant’s provisionings, newest first (filter by agent, status): for each the agent, its channels, status, when it started and finished, and on failure the step and reason, how many steps were undone and `leftBehind`. No steps (GET /v1/provisioning/{id} has them), never a credential.',
    query: provisioningListQuery,
    status: 200,
    response: pageOf(provisioningSummaryResponse),
  },
  'GET /v1/provisioning/{id}': {
    lambda: 'agents',
    permission: 'agents:read',
    summary:
      'A provisioning: its status and every step (status, timestamps, what it created: phone number, flow id, webhook URL), on failure the reason and what was undone, and `leftBehind` (undos that failed after retries)',
    params: provisioningParams,
    status: 200,
    response: provisioningResponse,
  },
  'GET /v1/agents': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'List agents with filters, sort and cursor',
    query: agentListQuery,
    status: 200,
    response: pageOf(agentResponse),
  },
  'POST /v1/agents': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Create an agent (draft)',
    body: agentCreateBody,
    status: 201,
    response: agentResponse,
  },
  'GET /v1/agents/{id}': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'Get an agent',
    params: agentParams,
    status: 200,
    response: agentResponse,
  },
  'PATCH /v1/agents/{id}': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Update an agent’s configuration (send If-Match: "<version>" to guard against stale writes)',
    params: agentParams,
    body: agentPatchBody,
    status: 200,
    response: agentResponse,
    ifMatch: true,
  },
  'DELETE /v1/agents/{id}': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Soft-delete an agent',
    params: agentParams,
    status: 204,
  },
  'POST /v1/agents/{id}/start': lifecycle('Start an agent'),
  'POST /v1/agents/{id}/pause': lifecycle('Pause an active agent'),
  'POST /v1/agents/{id}/resume': lifecycle('Resume a paused agent'),
  'POST /v1/agents/{id}/stop': lifecycle('Stop an agent'),
  'POST /v1/agents/{id}/clone': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Clone an agent’s configuration into a new draft',
    params: agentParams,
    body: agentCloneBody,
    status: 201,
    response: agentResponse,
  },
  'GET /v1/agents/{id}/versions': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'List configuration versions, newest first',
    params: agentParams,
    query: pageQuerySchema,
    status: 200,
    response: pageOf(agentVersionResponse),
  },
  'GET /v1/agents/{id}/versions/{version}': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'Get one configuration version',
    params: versionParams,
    status: 200,
    response: agentVersionResponse,
  },
  'POST /v1/agents/{id}/versions/{version}/rollback': {
    lambda: 'agents',
    permission: 'agents:write',
    summary: 'Make an earlier version’s configuration current (as a new version)',
    params: versionParams,
    status: 200,
    response: agentResponse,
    ifMatch: true,
  },
  'GET /v1/agents/{id}/stats': {
    lambda: 'agents',
    permission: 'agents:read',
    summary: 'Execution statistics',
    params: agentParams,
    status: 200,
    response: agentStatsResponse,
  },
  'GET /v1/agents/{id}/channels': {
    lambda: 'agents',
    permission: 'agents:read',
    summary:
      'The agent’s messaging and voice channels: address, on or off, which credentials are set (never their values), the webhook path to give the provider',
    params: agentParams,
    status: 200,
    response: channelListResponse,
  },
  'PUT /v1/agents/{id}/channels/{type}': {
    lambda: 'agents',
    permission: 'agents:write',
    summary:
      'Set up or change one messaging or voice channel: claims its address for this agent, stores its credentials as secrets (a new configuration version); telegram: points the bot at its webhook URL with setWebhook; voice: `{"address": "+1…"}`, an E.164 number already claimed in Amazon Connect (no credentials), which then routes calls to this agent',
    params: channelTypeParams,
    body: channelPutBody,
    status: 200,
    response: channelResponse,
    ifMatch: true,
    errors: {
      409: 'The address is in use by another agent (of this or another tenant), or the agent changed meanwhile (with If-Match), or (telegram) this environment has no public base URL for the webhook (`details.setting` names it)',
      422: 'telegram: Telegram does not accept the bot token (`details.issues` names body.credentials.botToken); nothing changed',
      502: "The secret store or (telegram) Telegram's setWebhook failed: nothing changed (a new address is given back); safe to send again",
    },
  },
  'POST /v1/agents/{id}/channels/{type}/provision': {
    lambda: 'agents',
    permission: 'agents:write',
    summary:
      'Provision one channel of an existing agent through the same workflow (voice: claims a number; others: address and credentials as for PUT …/channels/{type}). A draft or failed agent becomes active when it succeeds; an active one stays active either way.',
    params: provisionChannelParams,
    body: provisionChannelBody,
    status: 202,
    response: provisioningStartedResponse,
    idempotencyKey: 'optional',
    errors: {
      409: 'The agent already has this channel set up, or is being provisioned, or the Idempotency-Key was used for a different request',
      502: 'The secret store failed while staging the credentials: nothing was started; safe to send again',
    },
  },
  'DELETE /v1/agents/{id}/channels/{type}': {
    lambda: 'agents',
    permission: 'agents:write',
    summary:
      'Remove one messaging or voice channel: releases its address and deletes its credentials (telegram: deleteWebhook first, best effort)',
    params: channelTypeParams,
    status: 204,
    ifMatch: true,
    errors: { 502: 'The secret store failed; the channel is still listed: send the DELETE again' },
  },
  'GET /v1/agents/{id}/web-chat': {
    lambda: 'agents',
    permission: 'agents:read',
    summary:
      'The agent’s public web chat: its publishable key (for the page), allowed origins, on or off (the signing secret is never shown again)',
    params: webChatParams,
    status: 200,
    response: webChatResponse,
    errors: { 404: 'No such agent, or its web chat was never set up' },
  },
  'PUT /v1/agents/{id}/web-chat': {
    lambda: 'agents',
    permission: 'agents:write',
    summary:
      'Set up or change the public web chat: allowed origins (exact, e.g. https://shop.example) and on/off; the first call makes the publishable key and the signing secret (shown in this answer only)',
    params: webChatParams,
    body: webChatPutBody,
    status: 200,
    response: webChatResponse,
    errors: { 502: 'The secret store failed: nothing is usable yet; send it again' },
  },
  'POST /v1/agents/{id}/web-chat/rotate': {
    lambda: 'agents',
    permission: 'agents:write',
    summary:
      'A new publishable key and signing secret (shown in this answer only); the old key stops working at once',
    params: webChatParams,
    status: 200,
    response: webChatResponse,
    errors: {
      404: 'No such agent, or its web chat was never set up',
      502: 'The secret store failed: the old key still works; send it again',
    },
  },
} as const satisfies RouteGroup<'agents'>;
