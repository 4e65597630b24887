import { getAgent } from '../agents/agents';
import { NotFoundError } from '../shared/errors';
import type { Principal } from '../shared/principal';
import { type ChannelSettingsDeps, saveChannelChange, undo } from './configure';
import type { ConfigurableChannel } from './model';
import { type ChannelView, channelView } from './settings';

/** `GET /v1/agents/{id}/channels`: every configured messaging channel, no credential shown. */
export async function listChannels(
  deps: Pick<ChannelSettingsDeps, 'agents' | 'settings'>,
  actor: Principal,
  agentId: string,
): Promise<{ items: ChannelView[] }> {
  await getAgent(deps, actor, agentId);
  const settings = await deps.settings.list(actor.tenantId, agentId);
  return { items: settings.map(channelView) };
}

/**
 * `DELETE /v1/agents/{id}/channels/{type}`: releases the address, deletes the credentials, then
 * removes the setting and the agent's entry. Each step is idempotent and the setting goes last, so
 * a DELETE that failed halfway is finished by sending it again.
 */
export async function removeChannel(
  deps: ChannelSettingsDeps,
  actor: Principal,
  agentId: string,
  type: ConfigurableChannel,
  expectedVersion?: number,
): Promise<void> {
  await getAgent(deps, actor, agentId);
  const existing = await deps.settings.get(actor.tenantId, agentId, type);
  if (!existing) throw new NotFoundError(`Channel ${type} of agent`, agentId);
  if (type === 'telegram') await forgetTelegramWebhook(deps, actor.tenantId, agentId);
  await deps.directory.release({
    channel: type,
    address: existing.address,
    tenantId: actor.tenantId,
    agentId,
  });
  await deps.secrets.delete(actor.tenantId, agentId, type);
  await saveChannelChange(
    deps,
    actor,
    agentId,
    (channels) => channels.filter((channel) => channel.type !== type),
    { remove: type },
    `channel ${type} removed`,
    expectedVersion,
  );
}

/**
 * Before an agent is deleted: its addresses go back to the directory and its credentials are
 * deleted (the settings stay with the deleted agent, as its configuration does). Runs before the
 * deletion, so a deletion that fails after it is simply sent again.
 */
export async function releaseAgentChannels(
  deps: ChannelSettingsDeps,
  actor: Principal,
  agentId: string,
): Promise<void> {
  const settings = await deps.settings.list(actor.tenantId, agentId);
  for (const setting of settings) {
    if (setting.type === 'telegram') await forgetTelegramWebhook(deps, actor.tenantId, agentId);
    await deps.directory.release({
      channel: setting.type,
      address: setting.address,
      tenantId: actor.tenantId,
      agentId,
    });
    await deps.secrets.delete(actor.tenantId, agentId, setting.type);
  }
}

/**
 * Tells Telegram to stop posting the bot's updates here (deleteWebhook), before its token is
 * deleted. Best effort: a revoked token or an unreachable Telegram must not keep a tenant from
 * removing the channel, and once the channel key is released every delivery is refused (404).
 */
async function forgetTelegramWebhook(
  deps: ChannelSettingsDeps,
  tenantId: string,
  agentId: string,
): Promise<void> {
  const secret = await deps.secrets.get(tenantId, agentId, 'telegram');
  const botToken = secret?.botToken;
  if (!botToken) return;
  await undo(deps, "the removed bot's webhook", { tenantId, agentId, type: 'telegram' }, [
    () => deps.telegramWebhooks.delete(tenantId, agentId, { botToken }),
  ]);
}
