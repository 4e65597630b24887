import type { ChannelRoute } from './model';
import {
  type InboundDelivery,
  type ReceiveDeps,
  type ReceiveOutcome,
  receive,
  routeOf,
  UnknownChannelAddressError,
  verifiedSecrets,
} from './receive';

export interface BatchOutcome {
  readonly outcomes: readonly ReceiveOutcome[];
  /** Deliveries for addresses no agent answers on: skipped, nothing stored for them. */
  readonly unknown: number;
}

/**
 * The pipeline for a provider that batches several addresses into one POST (Meta: one entry per
 * page or Instagram account). Every known entry is routed and its proof checked BEFORE anything
 * is stored, so one forged entry fails the whole delivery (403, nothing stored); then each entry
 * goes through `receive`. Entries for unknown addresses are skipped (a Meta app may serve pages
 * that no agent here answers; refusing the whole batch would make Meta retry it and, in the end,
 * turn the webhook off); only a delivery with no known address at all is a 404. Routes and
 * secrets are read once per address.
 */
export async function receiveBatch(
  deps: ReceiveDeps,
  deliveries: readonly InboundDelivery[],
): Promise<BatchOutcome> {
  const memo = memoized(deps);
  const known: InboundDelivery[] = [];
  let unknown = 0;
  for (const delivery of deliveries) {
    let route: ChannelRoute;
    try {
      route = await routeOf(memo, delivery.channel, delivery.agentAddress);
    } catch (error) {
      if (!(error instanceof UnknownChannelAddressError)) throw error;
      unknown++;
      continue;
    }
    await verifiedSecrets(memo, route, (secrets) => delivery.verify(secrets));
    known.push(delivery);
  }
  const first = deliveries[0];
  if (first && known.length === 0) throw new UnknownChannelAddressError(first.channel);
  const outcomes: ReceiveOutcome[] = [];
  for (const delivery of known) outcomes.push(await receive(memo, delivery));
  return { outcomes, unknown };
}

function memoized(deps: ReceiveDeps): ReceiveDeps {
  const routes = new Map<string, Promise<ChannelRoute | undefined>>();
  const secrets = new Map<string, Promise<Readonly<Record<string, string>> | undefined>>();
  return {
    ...deps,
    directory: {
      resolve: (channel, address) => {
        const key = `${channel}#${address}`;
        let found = routes.get(key);
        if (!found) {
          found = deps.directory.resolve(channel, address);
          routes.set(key, found);
        }
        return found;
      },
    },
    secrets: {
      get: (tenantId, agentId, channel) => {
        const key = `${tenantId}#${agentId}#${channel}`;
        let found = secrets.get(key);
        if (!found) {
          found = deps.secrets.get(tenantId, agentId, channel);
          secrets.set(key, found);
        }
        return found;
      },
    },
  };
}
