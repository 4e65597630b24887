import { type Agent, agentCreateBody } from '../agents/schemas';
import { findTool, jsonSchemaOf, listTools, runTool, specOf, type ToolContext, toolsFor } from './registry';
import TOOL_INPUT_SCHEMAS from './tool-input-schemas.json';

function agent(overrides: Record<string, unknown> = {}): Agent {
  const config = agentCreateBody().parse({
    name: 'Desk',
    businessType: 'dental',
    model: { provider: 'scripted', modelId: 'scripted-v1' },
    knowledgeBase: {
      products: [{ name: 'Whitening', price: 299, currency: 'USD', description: 'In-office whitening' }],
      faqs: [{ question: 'Do you take walk-ins?', answer: 'Before noon.' }],
    },
    ...overrides,
  });
  return {
    ...config,
    id: 'agt_x',
    tenantId: 'ten_x',
    status: 'active',
    version: 1,
    createdAt: '',
    updatedAt: '',
    createdBy: '',
    updatedBy: '',
  };
}

function context(overrides: Partial<ToolContext> = {}): ToolContext {
  return {
    tenantId: 'ten_x',
    agent: agent(),
    now: () => new Date('2026-11-21T10:00:00Z'),
    memory: { search: async () => [] },
    http: { get: async () => ({ status: 200, contentType: 'application/json', body: '{"ok":true}' }) },
    ...overrides,
  };
}

describe('tool registry', () => {
  it('sends the model exactly the JSON Schema generated from each zod schema (run npm run generate:tool-schemas if this fails)', () => {
    for (const tool of listTools()) {
      expect({ tool: tool.name, schema: jsonSchemaOf(tool) }).toEqual({
        tool: tool.name,
        schema: (TOOL_INPUT_SCHEMAS as Record<string, unknown>)[tool.name],
      });
      expect(specOf(tool)).toEqual({
        name: tool.name,
        description: tool.description,
        inputSchema: jsonSchemaOf(tool),
      });
    }
  });

  it('offers an agent only the tools it enabled and this platform runs', () => {
    const names = toolsFor(agent({ tools: ['calculator', 'send_sms', 'memory_search'] })).map((t) => t.name);
    expect(names).toEqual(['calculator', 'memory_search']);
    const noMemory = toolsFor(agent({ tools: ['memory_search'], memory: { enabled: false } }));
    expect(noMemory).toEqual([]);
  });

  it('validates the model’s arguments before running a tool', async () => {
    const calculator = findTool('calculator');
    if (!calculator) throw new Error('calculator missing');
    const bad = await runTool(calculator, { expression: 42 }, context());
    expect(bad).toMatchObject({ status: 'failed', error: expect.stringContaining('expression') });
    const extra = await runTool(calculator, { expression: '1+1', shell: 'rm -rf /' }, context());
    expect(extra.status).toBe('failed');
    expect((await runTool(calculator, { expression: '2^10' }, context())).output).toEqual({
      expression: '2^10',
      result: 1024,
    });
  });

  it('looks things up in the knowledge base by word overlap', async () => {
    const lookup = findTool('knowledge_lookup');
    if (!lookup) throw new Error('knowledge_lookup missing');
    const result = await runTool(lookup, { query: 'how much is whitening?' }, context());
    expect(result.output).toEqual({
      query: 'how much is whitening?',
      matches: [{ kind: 'product', text: 'Whitening — 299 USD: In-office whitening' }],
    });
  });

  it('tells the time in a zone and refuses an unknown one', async () => {
    const time = findTool('current_time');
    if (!time) throw new Error('current_time missing');
    const paris = await runTool(time, { timezone: 'Europe/Paris' }, context());
    expect(paris.output).toMatchObject({ iso: '2026-11-21T10:00:00.000Z', timezone: 'Europe/Paris' });
    expect(JSON.stringify(paris.output)).toContain('11:00:00');
    expect((await runTool(time, { timezone: 'Mars/Olympus' }, context())).status).toBe('failed');
  });

  it('calls only allow-listed hosts, over https', async () => {
    const http = findTool('http_request');
    if (!http) throw new Error('http_request missing');
    const calls: string[] = [];
    const ctx = (hosts: string[]) =>
      context({
        agent: agent({ toolSettings: { httpAllowedHosts: hosts } }),
        http: {
          get: async (url) => {
            calls.push(url.href);
            return { status: 200, contentType: 'text/plain', body: 'fine' };
          },
        },
      });
    expect((await runTool(http, { url: 'https://api.example.com/status' }, ctx([]))).error).toContain(
      'not on this agent',
    );
    expect((await runTool(http, { url: 'https://evil.example.org/' }, ctx(['*.example.com']))).status).toBe(
      'failed',
    );
    expect(
      (await runTool(http, { url: 'http://api.example.com/' }, ctx(['api.example.com']))).error,
    ).toContain('https');
    const ok = await runTool(http, { url: 'https://status.example.com/v1' }, ctx(['*.example.com']));
    expect(ok).toMatchObject({ status: 'succeeded', output: { status: 200, body: 'fine' } });
    expect(calls).toEqual(['https://status.example.com/v1']);
  });
});
