import * as z from 'zod/mini';
import type { Agent, ToolName } from '../agents/schemas';
import type { ToolSpec } from '../runtime/model';
import { AppError, ValidationError } from '../shared/errors';
import { lazySchema, text } from '../shared/zod';
import type { ActionPermission } from '../tenants/rbac';
import { evaluateArithmetic } from './calculator';
import TOOL_INPUT_SCHEMAS from './tool-input-schemas.json';

export type ToolCategory =
  | 'utility'
  | 'knowledge'
  | 'communication'
  | 'resource'
  | 'external_service'
  | 'coordination';

/** What a tool may use while it runs; each is a port, so tools run the same in Lambda, locally and in tests. */
export interface ToolContext {
  readonly tenantId: string;
  readonly agent: Agent;
  readonly customerId?: string;
  readonly now: () => Date;
  readonly memory: MemorySearchPort;
  readonly http: HttpGetPort;
}

export interface MemorySearchPort {
  search(
    tenantId: string,
    agentId: string,
    query: string,
    options: { k: number; customerId?: string },
  ): Promise<{ content: string; type: string; similarity: number }[]>;
}

export interface HttpGetPort {
  /** GET without following redirects; body cut at `maxBytes`. */
  get(
    url: URL,
    options: { timeoutMs: number; maxBytes: number },
  ): Promise<{ status: number; contentType: string; body: string }>;
}

export interface ToolDefinition {
  readonly name: ToolName;
  readonly category: ToolCategory;
  readonly description: string;
  readonly input: () => z.ZodMiniType<Record<string, unknown>>;
  /** The acting user must hold this to run the tool (the decision engine enforces it for actions). */
  readonly permission?: ActionPermission;
  readonly execute: (input: never, context: ToolContext) => Promise<unknown>;
}

/** A tool failure the model should see and may recover from (bad input, host not allowed, …). */
export class ToolError extends AppError {
  constructor(message: string) {
    super(422, 'TOOL_FAILED', message);
  }
}

function define<S extends z.ZodMiniType>(tool: {
  name: ToolName;
  category: ToolCategory;
  description: string;
  permission?: ActionPermission;
  input: () => S;
  execute: (input: z.output<S>, context: ToolContext) => Promise<unknown>;
}): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

function wordsOf(value: string): Set<string> {
  return new Set(value.toLowerCase().match(/[a-z0-9]{3,}/g) ?? []);
}

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) =>
    pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern,
  );
}

const calculatorInput = lazySchema(() => z.strictObject({ expression: text(1, 200) }));
const currentTimeInput = lazySchema(() => z.strictObject({ timezone: z.optional(text(1, 64)) }));
const knowledgeLookupInput = lazySchema(() => z.strictObject({ query: text(1, 500) }));
const memorySearchInput = lazySchema(() =>
  z.strictObject({ query: text(1, 500), k: z.optional(z.int().check(z.gte(1), z.lte(10))) }),
);
const httpRequestInput = lazySchema(() => z.strictObject({ url: z.url().check(z.maxLength(2000)) }));

const BUILT_IN_TOOLS: readonly ToolDefinition[] = [
  define({
    name: 'calculator',
    category: 'utility',
    description: 'Evaluate an arithmetic expression (+ - * / % ^ and parentheses) exactly.',
    input: calculatorInput,
    execute: async ({ expression }) => {
      try {
        return { expression, result: evaluateArithmetic(expression) };
      } catch (error) {
        throw new ToolError(
          error instanceof ValidationError
            ? `expression ${error.message.replace(/^input\.expression: /, '')}`
            : 'cannot evaluate',
        );
      }
    },
  }),
  define({
    name: 'current_time',
    category: 'utility',
    description: 'The current date and time, in a given IANA time zone (default UTC).',
    input: currentTimeInput,
    execute: async ({ timezone }, context) => {
      const zone = timezone ?? 'UTC';
      const now = context.now();
      try {
        const local = new Intl.DateTimeFormat('en-GB', {
          timeZone: zone,
          dateStyle: 'full',
          timeStyle: 'long',
        }).format(now);
        return { iso: now.toISOString(), timezone: zone, local };
      } catch {
        throw new ToolError(`unknown time zone ${zone}`);
      }
    },
  }),
  define({
    name: 'knowledge_lookup',
    category: 'knowledge',
    description: "Search the business's knowledge base (products, policies, FAQs, contacts, hours).",
    input: knowledgeLookupInput,
    execute: async ({ query }, { agent }) => {
      const entries: { kind: string; text: string }[] = [
        ...agent.knowledgeBase.products.map((p) => ({
          kind: 'product',
          text: `${p.name}${p.price === undefined ? '' : ` — ${p.price} ${p.currency ?? ''}`.trimEnd()}${p.description ? `: ${p.description}` : ''}`,
        })),
        ...agent.knowledgeBase.policies.map((p) => ({ kind: 'policy', text: `${p.title}: ${p.content}` })),
        ...agent.knowledgeBase.faqs.map((f) => ({ kind: 'faq', text: `Q: ${f.question} A: ${f.answer}` })),
        ...agent.knowledgeBase.contacts.map((c) => ({
          kind: 'contact',
          text: [c.name, c.role, c.phone, c.email].filter(Boolean).join(', '),
        })),
        ...(agent.businessProfile?.hours ?? []).map((h) => ({
          kind: 'hours',
          text: `${h.day} ${h.opens}-${h.closes}`,
        })),
      ];
      const wanted = wordsOf(query);
      const scored = entries
        .map((entry) => ({ ...entry, score: [...wordsOf(entry.text)].filter((w) => wanted.has(w)).length }))
        .filter((entry) => entry.score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, 5);
      return { query, matches: scored.map(({ kind, text: found }) => ({ kind, text: found })) };
    },
  }),
  define({
    name: 'memory_search',
    category: 'knowledge',
    description: "Search this agent's long-term memories about the customer and past conversations.",
    input: memorySearchInput,
    execute: async ({ query, k }, context) => {
      if (!context.agent.memory.enabled) throw new ToolError('memory is disabled for this agent');
      const found = await context.memory.search(context.tenantId, context.agent.id, query, {
        k: k ?? 5,
        ...(context.customerId ? { customerId: context.customerId } : {}),
      });
      return { query, memories: found };
    },
  }),
  define({
    name: 'http_request',
    category: 'external_service',
    description:
      'HTTP GET a URL on a host this agent is allowed to call; returns status and (truncated) body.',
    input: httpRequestInput,
    execute: async ({ url }, context) => {
      const target = new URL(url);
      const allowed = context.agent.toolSettings.httpAllowedHosts;
      if (!hostAllowed(target.hostname, allowed)) {
        throw new ToolError(`host ${target.hostname} is not on this agent's allow-list`);
      }
      const loopback = target.hostname === 'localhost' || target.hostname === '127.0.0.1';
      if (target.protocol !== 'https:' && !(loopback && target.protocol === 'http:')) {
        throw new ToolError('only https URLs may be requested');
      }
      const response = await context.http.get(target, { timeoutMs: 5000, maxBytes: 16_384 });
      return { url, ...response };
    },
  }),
];

const TOOLS_BY_NAME = new Map(BUILT_IN_TOOLS.map((tool) => [tool.name, tool]));

/** The tools the platform can run today (others named in agent configs arrive with the actions work). */
export function listTools(): readonly ToolDefinition[] {
  return BUILT_IN_TOOLS;
}

export function findTool(name: string): ToolDefinition | undefined {
  return TOOLS_BY_NAME.get(name as ToolName);
}

/** The tools an agent offers the model: enabled on the agent and runnable here. */
export function toolsFor(agent: Agent): ToolDefinition[] {
  return agent.tools.flatMap((name) => {
    const tool = TOOLS_BY_NAME.get(name);
    return tool && (tool.name !== 'memory_search' || agent.memory.enabled) ? [tool] : [];
  });
}

/**
 * A tool's input schema as JSON Schema, generated from its zod schema. Only the generator script
 * and the tests call this; at run time the pre-generated copy below is used.
 */
export function jsonSchemaOf(tool: ToolDefinition): Record<string, unknown> {
  const { toJSONSchema } = require('zod/v4/core') as typeof import('zod/v4/core');
  const { $schema: _drop, ...inputSchema } = toJSONSchema(tool.input(), { io: 'input' }) as Record<
    string,
    unknown
  >;
  return inputSchema;
}

/** The spec the model gets: the pre-generated JSON Schema of `tool-input-schemas.json`. */
export function specOf(tool: ToolDefinition): ToolSpec {
  const inputSchema = (TOOL_INPUT_SCHEMAS as Record<string, Record<string, unknown> | undefined>)[tool.name];
  if (!inputSchema)
    throw new Error(`No generated input schema for tool ${tool.name}: run npm run generate:tool-schemas`);
  return { name: tool.name, description: tool.description, inputSchema };
}

export interface ToolRunResult {
  readonly name: string;
  readonly input: unknown;
  readonly status: 'succeeded' | 'failed';
  readonly output?: unknown;
  readonly error?: string;
  readonly durationMs: number;
}

/** Validates the model's arguments against the tool's schema, runs it, and reports either way. */
export async function runTool(
  tool: ToolDefinition,
  rawInput: unknown,
  context: ToolContext,
): Promise<ToolRunResult> {
  const started = performance.now();
  const done = (result: Omit<ToolRunResult, 'name' | 'input' | 'durationMs'>): ToolRunResult => ({
    name: tool.name,
    input: rawInput,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
    ...result,
  });
  const parsed = tool.input().safeParse(rawInput);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
    return done({ status: 'failed', error: `invalid input: ${why}` });
  }
  try {
    return done({ status: 'succeeded', output: await tool.execute(parsed.data as never, context) });
  } catch (error) {
    if (error instanceof ToolError) return done({ status: 'failed', error: error.message });
    throw error;
  }
}
