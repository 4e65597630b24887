import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import type { AgentRepository } from '../agents/ports';
import type { ChannelSecrets } from '../channels/model';
import { NotFoundError, ValidationError } from '../shared/errors';
import { idSchema } from '../shared/ids';
import type { Principal } from '../shared/principal';
import type { DataScopes } from '../shared/scopes';
import { instant, lazySchema } from '../shared/zod';
import type { WebChatKey } from './authorize';

/**
 * The public web chat of an agent (the `web` channel for a business's customers): a publishable
 * key a page embeds (public by design: it only lets a visitor talk to this agent in their own
 * conversation, from the allowed origins), and a signing secret the business keeps on its server
 * to vouch for a customer it knows (HMAC of the customer id, `authorize.ts`). The secret is shown
 * once, when made (set-up or rotation), and kept in the tenant's secret store, never the table.
 */
export interface WebChatSettings {
  readonly agentId: string;
  readonly publishableKey: string;
  readonly allowedOrigins: readonly string[];
  readonly enabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface WebChatStore {
  /** Tenant-level: the agent's settings. */
  get(tenantId: string, agentId: string): Promise<WebChatSettings | undefined>;
  put(tenantId: string, settings: WebChatSettings): Promise<void>;
  /** Platform-level: the key → (tenant, agent, origins) index the `$connect` authorizer reads. */
  putKey(key: WebChatKey): Promise<void>;
  removeKey(publishableKey: string): Promise<void>;
  resolveKey(publishableKey: string): Promise<WebChatKey | undefined>;
  /** Tenant-level: a connection counted in a one-minute window (`authorize.ts`). */
  count(tenantId: string, agentId: string, bucket: string, windowStart: string): Promise<number>;
}

export interface WebChatDeps {
  readonly agents: Pick<AgentRepository, 'get'>;
  readonly store: WebChatStore;
  readonly secrets: ChannelSecrets;
  readonly scopes: DataScopes;
  readonly now: () => Date;
}

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;

export const webChatParams = lazySchema(() => z.strictObject({ id: idSchema('agent') }));
export const webChatPutBody = lazySchema(() =>
  z.strictObject({
    allowedOrigins: z
      .array(
        z
          .string()
          .check(
            z.maxLength(253),
            z.toLowerCase(),
            z.regex(ORIGIN, 'must be an origin such as https://shop.example (scheme, host, optional port)'),
          ),
      )
      .check(z.maxLength(20)),
    enabled: z.optional(z.boolean()),
  }),
);
export type WebChatPutBody = z.infer<ReturnType<typeof webChatPutBody>>;

export const webChatResponse = lazySchema(() =>
  z.object({
    agentId: z.string(),
    publishableKey: z.string(),
    allowedOrigins: z.array(z.string()),
    enabled: z.boolean(),
    /** Only in the answer that made it (first set-up, rotation): keep it on your server. */
    signingSecret: z.optional(z.string()),
    /** Where visitors connect: the WebSocket URL with `?key=<publishableKey>`. */
    connectPath: z.string(),
    createdAt: instant(),
    updatedAt: instant(),
    updatedBy: z.string(),
  }),
);
export type WebChatView = z.infer<ReturnType<typeof webChatResponse>>;

function view(settings: WebChatSettings, signingSecret?: string): WebChatView {
  return {
    agentId: settings.agentId,
    publishableKey: settings.publishableKey,
    allowedOrigins: [...settings.allowedOrigins],
    enabled: settings.enabled,
    ...(signingSecret ? { signingSecret } : {}),
    connectPath: `/v1/ws?key=${settings.publishableKey}`,
    createdAt: settings.createdAt,
    updatedAt: settings.updatedAt,
    updatedBy: settings.updatedBy,
  };
}

const newKey = () => `pk_${randomBytes(18).toString('base64url')}`;
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
const indexOf = (tenantId: string, settings: WebChatSettings): WebChatKey => ({
  publishableKey: settings.publishableKey,
  tenantId,
  agentId: settings.agentId,
  enabled: settings.enabled,
  allowedOrigins: settings.allowedOrigins,
});

async function agentOf(deps: WebChatDeps, principal: Principal, agentId: string): Promise<void> {
  if (!(await deps.agents.get(principal.tenantId, agentId))) throw new NotFoundError('Agent', agentId);
}

export async function getWebChat(
  deps: WebChatDeps,
  principal: Principal,
  agentId: string,
): Promise<WebChatView> {
  await agentOf(deps, principal, agentId);
  const settings = await deps.store.get(principal.tenantId, agentId);
  if (!settings) throw new NotFoundError('Web chat of agent', agentId);
  return view(settings);
}

/** Sets the allowed origins (and on/off); the first call makes the key and the signing secret. */
export async function configureWebChat(
  deps: WebChatDeps,
  principal: Principal,
  agentId: string,
  body: WebChatPutBody,
): Promise<WebChatView> {
  await agentOf(deps, principal, agentId);
  if (new Set(body.allowedOrigins).size !== body.allowedOrigins.length) {
    throw ValidationError.forField('body.allowedOrigins', 'lists an origin twice');
  }
  const at = deps.now().toISOString();
  const existing = await deps.store.get(principal.tenantId, agentId);
  if (existing) {
    const next: WebChatSettings = {
      ...existing,
      allowedOrigins: body.allowedOrigins,
      enabled: body.enabled ?? existing.enabled,
      updatedAt: at,
      updatedBy: principal.userId,
    };
    await deps.scopes.platform(() => deps.store.putKey(indexOf(principal.tenantId, next)));
    await deps.store.put(principal.tenantId, next);
    return view(next);
  }
  return issue(deps, principal, agentId, body.allowedOrigins, body.enabled ?? true, at);
}

/** A new key and signing secret; the old key stops working at once (pages must embed the new one). */
export async function rotateWebChat(
  deps: WebChatDeps,
  principal: Principal,
  agentId: string,
): Promise<WebChatView> {
  await agentOf(deps, principal, agentId);
  const existing = await deps.store.get(principal.tenantId, agentId);
  if (!existing) throw new NotFoundError('Web chat of agent', agentId);
  const rotated = await issue(
    deps,
    principal,
    agentId,
    existing.allowedOrigins,
    existing.enabled,
    deps.now().toISOString(),
    existing.createdAt,
  );
  await deps.scopes.platform(() => deps.store.removeKey(existing.publishableKey));
  return rotated;
}

async function issue(
  deps: WebChatDeps,
  principal: Principal,
  agentId: string,
  allowedOrigins: readonly string[],
  enabled: boolean,
  at: string,
  createdAt = at,
): Promise<WebChatView> {
  const settings: WebChatSettings = {
    agentId,
    publishableKey: newKey(),
    allowedOrigins,
    enabled,
    createdAt,
    updatedAt: at,
    updatedBy: principal.userId,
  };
  const signingSecret = newSecret();
  // The secret first: a key that resolves must always find its secret.
  await deps.secrets.put(principal.tenantId, agentId, 'web', { signingSecret });
  await deps.scopes.platform(() => deps.store.putKey(indexOf(principal.tenantId, settings)));
  await deps.store.put(principal.tenantId, settings);
  return view(settings, signingSecret);
}

/** With the agent deleted: its key stops resolving (its settings go with the agent's partition's TTL-less items). */
export async function releaseWebChat(
  deps: WebChatDeps,
  principal: Principal,
  agentId: string,
): Promise<void> {
  const existing = await deps.store.get(principal.tenantId, agentId);
  if (existing) await deps.scopes.platform(() => deps.store.removeKey(existing.publishableKey));
}
