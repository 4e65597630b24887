import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { ValidationError } from '../../domain/shared/errors';
import type { Page } from '../../domain/shared/pagination';
import { lazySchema } from '../../domain/shared/zod';

/**
 * Cursors are the query's LastEvaluatedKey, wrapped with the scope they belong to. A cursor
 * is accepted only for the same scope (tenant partition and listing), so a cursor crafted or
 * copied from another tenant's listing is a 400, never a way into that tenant's partition.
 */
const cursorSchema = lazySchema(() =>
  z.strictObject({
    s: z.string(),
    k: z.record(z.string(), z.union([z.string(), z.number()])),
  }),
);

export function encodeCursor(scope: string, key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ s: scope, k: key })).toString('base64url');
}

export function decodeCursor(scope: string, cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw ValidationError.forField('query.cursor', 'is not a cursor returned by this listing');
  }
  const parsed = cursorSchema().safeParse(decoded);
  if (!parsed.success || parsed.data.s !== scope) {
    throw ValidationError.forField('query.cursor', 'is not a cursor returned by this listing');
  }
  return parsed.data.k;
}

export interface QueryPageOptions<T> {
  readonly client: DynamoDBDocumentClient;
  /** The Query without Limit/ExclusiveStartKey. */
  readonly input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>;
  readonly scope: string;
  readonly limit: number;
  readonly cursor?: string;
  readonly map: (item: Record<string, unknown>) => T;
  /** Bounds the reads a heavily filtered page may take; a short page still carries a cursor. */
  readonly maxRounds?: number;
}

/** Reads one page, following LastEvaluatedKey while a FilterExpression leaves the page short. */
export async function queryPage<T>(options: QueryPageOptions<T>): Promise<Page<T>> {
  const items: T[] = [];
  let startKey = decodeCursor(options.scope, options.cursor);
  const maxRounds = options.maxRounds ?? 10;
  for (let round = 0; round < maxRounds; round++) {
    const result = await options.client.send(
      new QueryCommand({
        ...options.input,
        Limit: options.limit - items.length,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of result.Items ?? []) items.push(options.map(item));
    startKey = result.LastEvaluatedKey;
    if (!startKey || items.length >= options.limit) break;
  }
  return startKey ? { items, nextCursor: encodeCursor(options.scope, startKey) } : { items };
}

/**
 * Every item a Query matches, following LastEvaluatedKey to the end. Only for result sets that
 * are small by construction (open actions, pending approvals): nothing here bounds the reads.
 */
export async function queryAll(
  client: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await client.send(
      new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    items.push(...(result.Items ?? []));
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return items;
}
