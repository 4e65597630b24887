import * as z from 'zod';

export interface Page<T> {
  readonly items: T[];
  /** Opaque; pass back as `cursor` to read the next page. Absent on the last page. */
  readonly nextCursor?: string;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

export const pageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(2048).optional(),
});
