import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { ValidationError } from '../../domain/shared/errors';
import type { Page } from '../../domain/shared/pagination';
import { lazySchema } from '../../domain/shared/zod';
import { decodeCursor, encodeCursor } from '../cursor-codec';
import type { TableClient } from './document-client';

/**
 * Cursors are the query's LastEvaluatedKey, signed for the scope they belong to by the one cursor
 * codec (`../cursor-codec`). `scope` names the tenant partition, the listing and its filters, so a
 * cursor crafted, altered or copied from another tenant's listing is a 400, never a way into that
 * tenant's partition nor a start key DynamoDB would refuse.
 */
const startKeySchema = lazySchema(() => z.record(z.string(), z.union([z.string(), z.number()])));

async function startKeyOf(
  scope: string,
  cursor: string | undefined,
): Promise<Record<string, unknown> | undefined> {
  if (cursor === undefined) return undefined;
  const parsed = startKeySchema().safeParse(await decodeCursor(scope, cursor));
  if (!parsed.success)
    throw ValidationError.forField('query.cursor', 'is not a cursor returned by this listing');
  return parsed.data;
}

export interface QueryPageOptions<T> {
  readonly client: TableClient;
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
  let startKey = await startKeyOf(options.scope, options.cursor);
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
  return startKey ? { items, nextCursor: await encodeCursor(options.scope, startKey) } : { items };
}

/**
 * Every item a Query matches, following LastEvaluatedKey to the end. Only for result sets that
 * are small by construction (open actions, pending approvals): nothing here bounds the reads.
 */
export async function queryAll(
  client: TableClient,
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
