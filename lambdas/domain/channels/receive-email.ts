import { channelAddress, type InboundMessage } from './model';
import { type ReceiveDeps, type ReceiveOutcome, receive, UnknownChannelAddressError } from './receive';

/** Email channels keep no secrets: the mailbox is an identity of the platform's receiving domain. */
const NO_SECRETS: ReceiveDeps['secrets'] = { get: async () => ({}) };

/**
 * The inbound pipeline for one received email (readInboundEmail's candidates: the same message
 * for each mailbox of ours it was addressed to, best evidence first). The first mailbox an agent
 * answers takes it; none → 404, nothing stored. Then the same dedup (by Message-ID) and queue as
 * every webhook.
 *
 * There is no signature to check here: the proof came before, where the message entered (on AWS,
 * SES wrote it to the platform's bucket after its spam, virus and authentication verdicts, which
 * the adapter has checked; locally, the dev route is the developer's own).
 */
export async function receiveEmail(
  deps: ReceiveDeps,
  candidates: readonly InboundMessage[],
): Promise<ReceiveOutcome> {
  for (const message of candidates) {
    const address = channelAddress('email', message.agentAddress);
    const route = await deps.directory.resolve('email', address);
    if (!route) continue;
    return receive(
      { ...deps, directory: { resolve: async () => route }, secrets: NO_SECRETS },
      { channel: 'email', agentAddress: address, verify: () => ({ ok: true }), messages: [message] },
    );
  }
  deps.log.warn('Inbound email refused: no agent answers any of its mailboxes', {
    channel: 'email',
    mailboxes: candidates.length,
  });
  throw new UnknownChannelAddressError('email');
}
