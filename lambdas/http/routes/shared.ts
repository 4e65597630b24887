import * as z from 'zod/mini';
import { idSchema } from '../../domain/shared/ids';
import { integer, lazySchema } from '../../domain/shared/zod';

export const agentParams = lazySchema(() => z.strictObject({ id: idSchema('agent') }));
export const versionParams = lazySchema(() =>
  z.strictObject({ id: idSchema('agent'), version: integer(1, 1e9, { coerce: true }) }),
);
export const userParams = lazySchema(() => z.strictObject({ id: idSchema('user') }));
export const locationParams = lazySchema(() => z.strictObject({ id: idSchema('location') }));

export const pageOf = (item: () => z.ZodMiniType) =>
  lazySchema(() => z.object({ items: z.array(item()), nextCursor: z.optional(z.string()) }));
