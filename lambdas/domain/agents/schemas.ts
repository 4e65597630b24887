import * as z from 'zod/mini';
import { idSchema } from '../shared/ids';
import { pageQueryFields } from '../shared/pagination';
import {
  boundedArray,
  e164Phone,
  instant,
  integer,
  lazySchema,
  lazyValue,
  rawText,
  storableNumber,
  text,
  unique,
} from '../shared/zod';

export const AGENT_STATUSES = ['draft', 'provisioning', 'active', 'paused', 'stopped', 'error'] as const;
export const agentStatusSchema = z.enum(AGENT_STATUSES);
export type AgentStatus = z.infer<typeof agentStatusSchema>;

export const MODEL_PROVIDERS = ['bedrock', 'openai-compatible', 'scripted'] as const;
export const CHANNEL_TYPES = [
  'web',
  'sms',
  'whatsapp',
  'voice',
  'slack',
  'telegram',
  'messenger',
  'instagram',
  'email',
] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
/** The built-in tools an agent may enable (the registry that runs them arrives with the runtime). */
export const TOOL_NAMES = [
  'send_sms',
  'send_whatsapp',
  'send_email',
  'place_call',
  'create_resource',
  'read_resource',
  'update_resource',
  'delete_resource',
  'book_appointment',
  'take_payment',
  'calculator',
  'current_time',
  'knowledge_lookup',
  'memory_search',
  'http_request',
  'notify_coordinator',
  'escalate',
  'request_approval',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/**
 * The configuration schemas are built on first use, all together (they share their parts):
 * a Lambda instance that only ever reads agents never pays for building them.
 */
/** A price in major units; beyond it a typo is more likely than a product. */
export const MAX_PRICE = 1_000_000_000;

const configSchemas = lazyValue(() => {
  const shortText = text(1, 200);
  const clock = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'));

  const modelConfigSchema = z.strictObject({
    provider: z.enum(MODEL_PROVIDERS),
    modelId: text(1, 200),
    temperature: z._default(storableNumber().check(z.gte(0), z.lte(2)), 0.7),
    maxTokens: z._default(integer(1, 64_000), 1024),
    topP: z._default(storableNumber().check(z.gt(0), z.lte(1)), 1),
  });

  const personalitySchema = z.strictObject({
    traits: z._default(boundedArray(shortText, 20), []),
    tone: z.optional(shortText),
    behaviour: z.optional(rawText(2000)),
    languageStyle: z.optional(shortText),
  });

  const businessProfileSchema = z.strictObject({
    name: shortText,
    description: z.optional(rawText(4000)),
    website: z.optional(z.url().check(z.maxLength(500))),
    phone: z.optional(e164Phone()),
    email: z.optional(z.email().check(z.maxLength(254))),
    address: z.optional(rawText(500)),
    hours: z._default(
      boundedArray(
        z.strictObject({
          day: z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']),
          opens: clock,
          closes: clock,
        }),
        14,
      ),
      [],
    ),
  });

  const knowledgeBaseSchema = z.strictObject({
    products: z._default(
      boundedArray(
        z.strictObject({
          name: shortText,
          description: z.optional(rawText(2000)),
          price: z.optional(storableNumber().check(z.gte(0), z.lte(MAX_PRICE))),
          currency: z.optional(z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'))),
        }),
        200,
      ),
      [],
    ),
    policies: z._default(boundedArray(z.strictObject({ title: shortText, content: rawText(4000) }), 100), []),
    faqs: z._default(
      boundedArray(z.strictObject({ question: rawText(500), answer: rawText(4000) }), 200),
      [],
    ),
    contacts: z._default(
      boundedArray(
        z.strictObject({
          name: shortText,
          role: z.optional(shortText),
          phone: z.optional(rawText(32)),
          email: z.optional(z.email()),
        }),
        50,
      ),
      [],
    ),
  });

  const channelSchema = z.strictObject({
    type: z.enum(CHANNEL_TYPES),
    enabled: z._default(z.boolean(), true),
    /** Phone number, bot handle or mailbox the channel answers on; set by provisioning when absent. */
    address: z.optional(text(1, 200)),
  });

  /**
   * How the agent sounds on the phone: the Polly voice, the Lex locale of the shared bot it
   * listens with (one configured per environment, lib/config.ts `voice.languages`), and the
   * greeting a caller hears first.
   */
  const voiceConfigSchema = z.strictObject({
    voiceId: z.optional(
      z.string().check(z.regex(/^[A-Z][A-Za-z]{1,30}$/, 'must be an Amazon Polly voice id such as Joanna')),
    ),
    localeId: z.optional(
      z.string().check(z.regex(/^[a-z]{2}_[A-Z]{2}$/, 'must be a Lex V2 locale id such as en_US')),
    ),
    greeting: z.optional(text(1, 500)),
  });

  const memoryConfigSchema = z.strictObject({
    enabled: z._default(z.boolean(), true),
    retentionDays: z._default(integer(1, 3650), 365),
  });

  const guardrailSchema = z.strictObject({
    id: z.string().check(z.regex(/^[a-z0-9]{1,64}$/, 'must be a Bedrock guardrail id')),
    version: z.string().check(z.regex(/^(DRAFT|\d{1,8})$/, 'must be DRAFT or a version number')),
  });

  const hostname = z
    .string()
    .check(
      z.regex(
        /^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$/,
        'must be a host name such as api.example.com or *.example.com',
      ),
    );
  const toolSettingsSchema = z.strictObject({
    /** Hosts the `http_request` tool may call (exact, or `*.` for subdomains); empty = none. */
    httpAllowedHosts: z._default(boundedArray(hostname, 20), []),
  });
  const toolListSchema = boundedArray(z.enum(TOOL_NAMES), TOOL_NAMES.length).check(
    ...unique<ToolName>('must not repeat a tool'),
  );
  const channelListSchema = boundedArray(channelSchema, CHANNEL_TYPES.length).check(
    ...unique<{ type: ChannelType }>('one entry per channel type', (channel) => channel.type),
    z.meta({ description: 'At most one entry per channel type' }),
  );
  const agentName = text(1, 100);
  const description = rawText(1000);
  const businessType = text(1, 60);
  const instructions = rawText(20_000);

  /** Every field an agent's configuration holds: what versions snapshot and rollback restores. */
  const agentConfigShape = {
    name: agentName,
    description: z.optional(description),
    businessType,
    locationId: z.optional(idSchema('location')),
    model: modelConfigSchema,
    instructions: z._default(instructions, ''),
    personality: z._default(personalitySchema, { traits: [] }),
    businessProfile: z.optional(businessProfileSchema),
    knowledgeBase: z._default(knowledgeBaseSchema, { products: [], policies: [], faqs: [], contacts: [] }),
    tools: z._default(toolListSchema, []),
    toolSettings: z._default(toolSettingsSchema, { httpAllowedHosts: [] }),
    channels: z._default(channelListSchema, []),
    memory: z._default(memoryConfigSchema, { enabled: true, retentionDays: 365 }),
    guardrail: z.optional(guardrailSchema),
    voice: z.optional(voiceConfigSchema),
  };

  const agentCreateBody = z.strictObject(agentConfigShape);

  /** A patch replaces the top-level fields it names; `null` clears an optional one. */
  const agentPatchBody = z
    .strictObject({
      name: z.optional(agentName),
      description: z.optional(z.nullable(description)),
      businessType: z.optional(businessType),
      locationId: z.optional(z.nullable(idSchema('location'))),
      model: z.optional(modelConfigSchema),
      instructions: z.optional(instructions),
      personality: z.optional(personalitySchema),
      businessProfile: z.optional(z.nullable(businessProfileSchema)),
      knowledgeBase: z.optional(knowledgeBaseSchema),
      // Never the create schema's defaulted fields here: a default would silently reset them.
      tools: z.optional(toolListSchema),
      toolSettings: z.optional(toolSettingsSchema),
      channels: z.optional(channelListSchema),
      memory: z.optional(memoryConfigSchema),
      guardrail: z.optional(z.nullable(guardrailSchema)),
      voice: z.optional(z.nullable(voiceConfigSchema)),
    })
    .check(z.refine((patch) => Object.keys(patch).length > 0, 'must change at least one field'));

  const agentCloneBody = z._default(z.strictObject({ name: z.optional(agentName) }), {});

  const agentToolsBody = z.strictObject({
    tools: toolListSchema,
    toolSettings: z.optional(toolSettingsSchema),
  });

  return { agentConfigShape, agentCreateBody, agentPatchBody, agentCloneBody, agentToolsBody };
});

/** The top-level fields of an agent's configuration: what versions snapshot and rollback restores. */
export const AGENT_CONFIG_FIELDS = [
  'name',
  'description',
  'businessType',
  'locationId',
  'model',
  'instructions',
  'personality',
  'businessProfile',
  'knowledgeBase',
  'tools',
  'toolSettings',
  'channels',
  'memory',
  'guardrail',
  'voice',
] as const satisfies readonly (keyof ReturnType<typeof configSchemas>['agentConfigShape'])[];

export const agentCreateBody = () => configSchemas().agentCreateBody;
export type AgentCreateInput = z.infer<ReturnType<typeof agentCreateBody>>;
export type AgentConfig = AgentCreateInput;
/** A patch replaces the top-level fields it names; `null` clears an optional one. */
export const agentPatchBody = () => configSchemas().agentPatchBody;
export type AgentPatch = z.infer<ReturnType<typeof agentPatchBody>>;
export const agentCloneBody = () => configSchemas().agentCloneBody;
/** `PUT /v1/agents/{id}/tools`: the enabled tools (and their settings) in one write. */
export const agentToolsBody = () => configSchemas().agentToolsBody;
export type AgentToolsInput = z.infer<ReturnType<typeof agentToolsBody>>;

export const AGENT_SORTS = ['createdAt', 'name'] as const;
export const agentListQuery = lazySchema(() =>
  z.strictObject({
    ...pageQueryFields(),
    status: z.optional(agentStatusSchema),
    businessType: z.optional(text(1, 60)),
    /** Case-insensitive name prefix (uses the name index when sorting by name). */
    namePrefix: z.optional(text(1, 100)),
    sort: z._default(z.enum(AGENT_SORTS), 'createdAt'),
    order: z._default(z.enum(['asc', 'desc']), 'desc'),
  }),
);
export type AgentListQuery = z.infer<ReturnType<typeof agentListQuery>>;

// Response shapes: built only when the OpenAPI document is (the types are what the code uses).
export const agentStatsResponse = lazySchema(() =>
  z.object({
    executions: z.int(),
    succeeded: z.int(),
    failed: z.int(),
    successRate: z.number(),
    avgTokens: z.number(),
    avgCostUsd: z.number(),
    avgLatencyMs: z.number(),
    /** Thumbs up / down given to the agent's messages (WebSocket `agent_feedback`). */
    feedback: z.object({ up: z.int(), down: z.int() }),
  }),
);
export type AgentStats = z.infer<ReturnType<typeof agentStatsResponse>>;

export const agentResponse = lazySchema(() =>
  z.object({
    ...agentCreateBody().shape,
    id: z.string(),
    tenantId: z.string(),
    status: agentStatusSchema,
    statusReason: z.optional(z.string()),
    version: z.int(),
    createdAt: instant(),
    updatedAt: instant(),
    createdBy: z.string(),
    updatedBy: z.string(),
  }),
);
export type Agent = z.infer<ReturnType<typeof agentResponse>>;

export const agentVersionResponse = lazySchema(() =>
  z.object({
    agentId: z.string(),
    version: z.int(),
    config: agentCreateBody(),
    createdAt: instant(),
    createdBy: z.string(),
    /** Why the version exists: created, updated, cloned from another agent, or rolled back to N. */
    reason: z.string(),
  }),
);
export type AgentVersion = z.infer<ReturnType<typeof agentVersionResponse>>;

export function configOf(agent: Agent): AgentConfig {
  const config: Record<string, unknown> = {};
  for (const key of AGENT_CONFIG_FIELDS) {
    const value = (agent as Record<string, unknown>)[key];
    if (value !== undefined) config[key] = value;
  }
  return config as AgentConfig;
}
