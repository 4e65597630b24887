import type { AgentConfig } from '../agents/schemas';
import { ValidationError } from '../shared/errors';
import { isConfigurableChannel } from './model';

type Channels = AgentConfig['channels'];

/**
 * A messaging channel's address is claimed in the global directory by
 * `PUT /v1/agents/{id}/channels/{type}`, so that no two agents (of any tenant) answer one number
 * or mailbox. The agent's own routes may not set one behind the directory's back: POST and PATCH
 * refuse a new address (400 naming the field and the route to use), and keep configured entries
 * as the channel routes left them.
 */
const useChannelRoute = (type: string) =>
  `the ${type} address is set with PUT /v1/agents/{id}/channels/${type} (which claims it for this agent)`;

/** `POST /v1/agents`: messaging entries may say whether the channel is on, not where it answers. */
export function refuseNewChannelAddresses(channels: Channels): void {
  channels.forEach((channel, index) => {
    if (isConfigurableChannel(channel.type) && channel.address !== undefined) {
      throw ValidationError.forField(`body.channels.${index}.address`, useChannelRoute(channel.type));
    }
  });
}

/** Entries the channel routes set up (a messaging channel with an address). */
function configured(channels: Channels): Channels {
  return channels.filter((channel) => isConfigurableChannel(channel.type) && channel.address !== undefined);
}

/**
 * `PATCH /v1/agents/{id}` with `channels`: entries the channel routes set up must come back as
 * they are (a client that reads the agent, changes its name and sends it all back is fine), and
 * no other messaging entry may carry an address.
 */
export function checkChannelsPatch(current: Channels, next: Channels): void {
  for (const kept of configured(current)) {
    const index = next.findIndex((channel) => channel.type === kept.type);
    const sent = next[index];
    if (!sent || sent.address !== kept.address || sent.enabled !== kept.enabled) {
      throw ValidationError.forField(
        sent ? `body.channels.${index}` : 'body.channels',
        `${kept.type} is set up through /v1/agents/{id}/channels/${kept.type}: keep its entry as it is here (change or remove it there)`,
      );
    }
  }
  next.forEach((channel, index) => {
    const isKept = configured(current).some((kept) => kept.type === channel.type);
    if (!isKept && isConfigurableChannel(channel.type) && channel.address !== undefined) {
      throw ValidationError.forField(`body.channels.${index}.address`, useChannelRoute(channel.type));
    }
  });
}

/**
 * A rollback (or anything else restoring an old configuration) keeps the channels as the channel
 * routes set them now: the directory and the credentials are not versioned, so an old version's
 * messaging entries with addresses would point at claims this agent may no longer hold.
 */
export function withCurrentChannelSetup(current: Channels, restored: Channels): Channels {
  const now = configured(current);
  const kept = restored.filter(
    (channel) =>
      !now.some((c) => c.type === channel.type) &&
      !(isConfigurableChannel(channel.type) && channel.address !== undefined),
  );
  return [...kept, ...now];
}
