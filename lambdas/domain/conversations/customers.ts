import type { ChannelType } from '../agents/schemas';

/**
 * A customer is the person on the other end, recognised across channels by their addresses:
 * the same phone number on SMS, WhatsApp and voice is one customer with one shared context.
 */
export type AddressKind = 'phone' | 'email' | 'slack' | 'telegram' | 'messenger' | 'instagram' | 'web';

export interface CustomerAddress {
  readonly kind: AddressKind;
  /** Normalised: E.164 phone, lower-case email, platform id as given. */
  readonly value: string;
}

export interface Customer {
  readonly id: string;
  readonly tenantId: string;
  readonly name?: string;
  readonly addresses: readonly CustomerAddress[];
  /** What every agent of the tenant may know about this customer (name, preferences, notes). */
  readonly context: Readonly<Record<string, string>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Which address kind a channel identifies its customers by. */
export const CHANNEL_ADDRESS_KIND: Readonly<Record<ChannelType, AddressKind>> = {
  sms: 'phone',
  whatsapp: 'phone',
  voice: 'phone',
  email: 'email',
  slack: 'slack',
  telegram: 'telegram',
  // Meta's page-scoped ids: a customer's Messenger id and Instagram id are different numbers.
  messenger: 'messenger',
  instagram: 'instagram',
  web: 'web',
};

/**
 * Web customer ids the platform makes itself: `visitor:<random>` for an anonymous web chat
 * visitor, `user:<userId>` for a signed-in user trying their agent. A business's own ids (signed
 * for its web chat, or given to the chat API) may not start with them: they would reach those
 * customers' conversations.
 */
export const PLATFORM_WEB_ID_PREFIXES = ['visitor:', 'user:'] as const;
/** Matches the ids a business may give: none of the platform's prefixes. */
export const BUSINESS_WEB_ID = new RegExp(`^(?!${PLATFORM_WEB_ID_PREFIXES.join('|')})`);
export const PLATFORM_WEB_ID_RULE = `must not start with ${PLATFORM_WEB_ID_PREFIXES.map((p) => `"${p}"`).join(' or ')} (the platform's own customer ids)`;

export function normaliseAddress(kind: AddressKind, raw: string): string {
  const value = raw.trim();
  switch (kind) {
    case 'phone':
      return value.replace(/^whatsapp:/i, '').replace(/[\s().-]/g, '');
    case 'email':
      return value.toLowerCase();
    default:
      return value;
  }
}

export interface CustomerRepository {
  /**
   * The customer owning `address`, created (with the address claimed) if none does. Safe under
   * races: two first messages from one number resolve to one customer.
   */
  resolve(tenantId: string, address: CustomerAddress, name?: string): Promise<Customer>;
  get(tenantId: string, customerId: string): Promise<Customer | undefined>;
}
