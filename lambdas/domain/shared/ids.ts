import { ulid } from 'ulid';
import * as z from 'zod/mini';

/** Ids are prefixed ULIDs: sortable by creation time and self-describing in logs. */
export const ID_PREFIXES = {
  tenant: 'ten',
  user: 'usr',
  location: 'loc',
  agent: 'agt',
  customer: 'cus',
  conversation: 'cnv',
  execution: 'exe',
  toolRun: 'tlr',
  memory: 'mem',
  ledgerEntry: 'led',
  reservation: 'rsv',
  action: 'act',
  approval: 'apr',
  audit: 'aud',
  resource: 'res',
  booking: 'bkg',
  outbox: 'obx',
  purchase: 'pur',
  provisioning: 'prv',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${ulid()}`;
}

export function idSchema(kind: IdKind) {
  return z
    .string()
    .check(
      z.regex(
        new RegExp(`^${ID_PREFIXES[kind]}_[0-9A-HJKMNP-TV-Z]{26}$`),
        `must be a ${kind} id (${ID_PREFIXES[kind]}_…)`,
      ),
    );
}
