import * as z from 'zod';
import { idSchema } from '../shared/ids';

export const AGENT_STATUSES = ['draft', 'provisioning', 'active', 'paused', 'stopped', 'error'] as const;
export const agentStatusSchema = z.enum(AGENT_STATUSES);
export type AgentStatus = z.infer<typeof agentStatusSchema>;

export const MODEL_PROVIDERS = ['bedrock', 'openai-compatible', 'scripted'] as const;
export const CHANNEL_TYPES = ['web', 'sms', 'whatsapp', 'voice', 'slack', 'telegram', 'email'] as const;
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
] as const;

const shortText = z.string().trim().min(1).max(200);
const longText = (max: number) => z.string().max(max);

export const modelConfigSchema = z.strictObject({
  provider: z.enum(MODEL_PROVIDERS),
  modelId: z.string().trim().min(1).max(200),
  temperature: z.number().min(0).max(2).default(0.7),
  maxTokens: z.number().int().min(1).max(64_000).default(1024),
  topP: z.number().gt(0).max(1).default(1),
});

export const personalitySchema = z.strictObject({
  traits: z.array(shortText).max(20).default([]),
  tone: shortText.optional(),
  behaviour: longText(2000).optional(),
  languageStyle: shortText.optional(),
});

const hoursSchema = z.strictObject({
  day: z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']),
  opens: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
  closes: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
});

export const businessProfileSchema = z.strictObject({
  name: shortText,
  description: longText(4000).optional(),
  website: z.url().max(500).optional(),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number')
    .optional(),
  email: z.email().max(254).optional(),
  address: longText(500).optional(),
  hours: z.array(hoursSchema).max(14).default([]),
});

export const knowledgeBaseSchema = z.strictObject({
  products: z
    .array(
      z.strictObject({
        name: shortText,
        description: longText(2000).optional(),
        price: z.number().nonnegative().optional(),
        currency: z
          .string()
          .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
          .optional(),
      }),
    )
    .max(200)
    .default([]),
  policies: z
    .array(z.strictObject({ title: shortText, content: longText(4000) }))
    .max(100)
    .default([]),
  faqs: z
    .array(z.strictObject({ question: longText(500), answer: longText(4000) }))
    .max(200)
    .default([]),
  contacts: z
    .array(
      z.strictObject({
        name: shortText,
        role: shortText.optional(),
        phone: z.string().max(32).optional(),
        email: z.email().optional(),
      }),
    )
    .max(50)
    .default([]),
});

export const channelSchema = z.strictObject({
  type: z.enum(CHANNEL_TYPES),
  enabled: z.boolean().default(true),
  /** Phone number, bot handle or mailbox the channel answers on; set by provisioning when absent. */
  address: z.string().trim().min(1).max(200).optional(),
});

export const memoryConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  retentionDays: z.number().int().min(1).max(3650).default(365),
});

export const guardrailSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9]{1,64}$/, 'must be a Bedrock guardrail id'),
  version: z.string().regex(/^(DRAFT|\d{1,8})$/, 'must be DRAFT or a version number'),
});

const toolListSchema = z
  .array(z.enum(TOOL_NAMES))
  .max(TOOL_NAMES.length)
  .refine((tools) => new Set(tools).size === tools.length, 'must not repeat a tool');
const channelListSchema = z
  .array(channelSchema)
  .max(CHANNEL_TYPES.length)
  .refine(
    (channels) => new Set(channels.map((c) => c.type)).size === channels.length,
    'one entry per channel type',
  );

/** Every field an agent's configuration holds: what versions snapshot and rollback restores. */
export const agentConfigShape = {
  name: z.string().trim().min(1).max(100),
  description: longText(1000).optional(),
  businessType: z.string().trim().min(1).max(60),
  locationId: idSchema('location').optional(),
  model: modelConfigSchema,
  instructions: longText(20_000).default(''),
  personality: personalitySchema.default({ traits: [] }),
  businessProfile: businessProfileSchema.optional(),
  knowledgeBase: knowledgeBaseSchema.default({ products: [], policies: [], faqs: [], contacts: [] }),
  tools: toolListSchema.default([]),
  channels: channelListSchema.default([]),
  memory: memoryConfigSchema.default({ enabled: true, retentionDays: 365 }),
  guardrail: guardrailSchema.optional(),
};

export const agentCreateBody = z.strictObject(agentConfigShape);
export type AgentCreateInput = z.infer<typeof agentCreateBody>;
export type AgentConfig = AgentCreateInput;

/** A patch replaces the top-level fields it names; `null` clears an optional one. */
export const agentPatchBody = z
  .strictObject({
    name: agentConfigShape.name.optional(),
    description: longText(1000).nullable().optional(),
    businessType: agentConfigShape.businessType.optional(),
    locationId: idSchema('location').nullable().optional(),
    model: modelConfigSchema.optional(),
    instructions: longText(20_000).optional(),
    personality: personalitySchema.optional(),
    businessProfile: businessProfileSchema.nullable().optional(),
    knowledgeBase: knowledgeBaseSchema.optional(),
    // Never the create schema's defaulted fields here: a default would silently reset them.
    tools: toolListSchema.optional(),
    channels: channelListSchema.optional(),
    memory: memoryConfigSchema.optional(),
    guardrail: guardrailSchema.nullable().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'must change at least one field');
export type AgentPatch = z.infer<typeof agentPatchBody>;

export const agentCloneBody = z.strictObject({ name: agentConfigShape.name.optional() });

export const AGENT_SORTS = ['createdAt', 'name'] as const;
export const agentListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(2048).optional(),
  status: agentStatusSchema.optional(),
  businessType: z.string().min(1).max(60).optional(),
  /** Case-insensitive name prefix; uses the name index, so it implies `sort=name`. */
  namePrefix: z.string().min(1).max(100).optional(),
  sort: z.enum(AGENT_SORTS).default('createdAt'),
  order: z.enum(['asc', 'desc']).default('desc'),
});
export type AgentListQuery = z.infer<typeof agentListQuery>;

export const agentStatsSchema = z.object({
  executions: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  successRate: z.number(),
  avgTokens: z.number(),
  avgCostUsd: z.number(),
  avgLatencyMs: z.number(),
});
export type AgentStats = z.infer<typeof agentStatsSchema>;

export const agentSchema = z.object({
  ...agentCreateBody.shape,
  id: z.string(),
  tenantId: z.string(),
  status: agentStatusSchema,
  statusReason: z.string().optional(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.string(),
  updatedBy: z.string(),
});
export type Agent = z.infer<typeof agentSchema>;

export const agentVersionSchema = z.object({
  agentId: z.string(),
  version: z.number().int(),
  config: agentCreateBody,
  createdAt: z.string(),
  createdBy: z.string(),
  /** Why the version exists: created, updated, cloned from another agent, or rolled back to N. */
  reason: z.string(),
});
export type AgentVersion = z.infer<typeof agentVersionSchema>;

export function configOf(agent: Agent): AgentConfig {
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(agentConfigShape)) {
    const value = (agent as Record<string, unknown>)[key];
    if (value !== undefined) config[key] = value;
  }
  return config as AgentConfig;
}
