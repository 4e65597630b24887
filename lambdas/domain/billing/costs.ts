import * as z from 'zod/mini';
import { integer, lazySchema } from '../shared/zod';
import type { CostTable } from './ports';

/** The issue's prices; environments set their own in cdk.json (`tokenCosts` → `TOKEN_COSTS`). */
export const DEFAULT_COST_TABLE: CostTable = {
  whatsappConversation: 10,
  sms: 1,
  email: 1,
  call: 50,
  llmCall: 1,
  monthlyFee: 200,
  // Actions beyond messages and calls. Records and coordination cost the platform next to
  // nothing, so they are free by default (and then reserve nothing); a booking or a payment
  // is worth a little more to the tenant.
  resource: 0,
  booking: 2,
  payment: 5,
  coordination: 0,
};

/** Same bounds as the CDK config's schema (lib/config.ts), so what synth accepts parses here. */
export const costTableSchema = lazySchema(() => {
  const tokens = () => integer(0, 1_000_000);
  return z.strictObject({
    whatsappConversation: tokens(),
    sms: tokens(),
    email: tokens(),
    call: tokens(),
    llmCall: tokens(),
    monthlyFee: tokens(),
    resource: tokens(),
    booking: tokens(),
    payment: tokens(),
    coordination: tokens(),
  });
});

/** The cost table from `TOKEN_COSTS` (JSON); unset means the defaults. A bad value fails loudly. */
export function parseCostTable(json: string | undefined): CostTable {
  if (json === undefined || json.trim() === '') return DEFAULT_COST_TABLE;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`Invalid TOKEN_COSTS: not JSON (${(error as Error).message})`);
  }
  const parsed = costTableSchema().safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`);
    throw new Error(`Invalid TOKEN_COSTS: ${problems.join('; ')}`);
  }
  return parsed.data;
}
