import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { BedrockConverseModel } from '../../adapters/bedrock/converse-model';
import { ScriptedModel } from '../../adapters/local/scripted-model';
import { type Agent, agentCreateBody } from '../agents/schemas';
import type { Message } from '../conversations/conversations';
import type { HttpGetPort, MemorySearchPort } from '../tools/registry';
import { MAX_TOOL_ROUNDS, runTurn, TurnFailure } from './turn';
import type { TurnEvent } from './turn-events';

const bedrock = mockClient(BedrockRuntimeClient);

function agentWith(overrides: Record<string, unknown> = {}): Agent {
  const config = agentCreateBody().parse({
    name: 'Desk',
    businessType: 'dental',
    model: { provider: 'bedrock', modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0', maxTokens: 512 },
    tools: ['calculator', 'current_time'],
    businessProfile: { name: 'Smile Dental' },
    ...overrides,
  });
  const now = new Date().toISOString();
  return {
    ...config,
    id: 'agt_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    tenantId: 'ten_01ARZ3NDEKTSV4RRFFQ69G5FAV',
    status: 'active',
    version: 1,
    createdAt: now,
    updatedAt: now,
    createdBy: 'usr_x',
    updatedBy: 'usr_x',
  };
}

const memory: MemorySearchPort = {
  search: async () => [{ content: 'Prefers mornings', type: 'social', similarity: 0.9 }],
};
const http: HttpGetPort = { get: async () => ({ status: 200, contentType: 'text/plain', body: 'ok' }) };
const tools = { memory, http, now: () => new Date('2026-11-21T10:00:00Z') };

/** A recorded Converse response. */
function converse(
  output: Partial<ConverseCommandOutput> & Pick<ConverseCommandOutput, 'output' | 'stopReason'>,
) {
  return {
    usage: { inputTokens: 100, outputTokens: 20, totalTokens: 120 },
    metrics: { latencyMs: 350 },
    ...output,
  } as ConverseCommandOutput;
}
const toolUse = (id: string, name: string, input: Record<string, unknown>) =>
  converse({
    output: {
      message: { role: 'assistant', content: [{ toolUse: { toolUseId: id, name, input: input as never } }] },
    },
    stopReason: 'tool_use',
  });
const answer = (text: string) =>
  converse({ output: { message: { role: 'assistant', content: [{ text }] } }, stopReason: 'end_turn' });

const model = () =>
  new BedrockConverseModel(new BedrockRuntimeClient({ region: 'us-east-1' }), { maxAttempts: 1 });

beforeEach(() => bedrock.reset());

describe('the tool loop over Bedrock Converse (recorded responses)', () => {
  it('runs the requested tool, returns its result to the model, and totals the usage', async () => {
    bedrock
      .on(ConverseCommand)
      .resolvesOnce(toolUse('t1', 'calculator', { expression: '12*(3+4)' }))
      .resolvesOnce(answer('That comes to 84.'));
    const result = await runTurn(
      { model: model(), tools },
      { agent: agentWith(), history: [], userText: 'What is 12*(3+4)?' },
    );
    expect(result.reply).toBe('That comes to 84.');
    expect(result.toolRuns).toEqual([
      expect.objectContaining({
        name: 'calculator',
        status: 'succeeded',
        output: { expression: '12*(3+4)', result: 84 },
      }),
    ]);
    expect(result.usage).toEqual({ inputTokens: 200, outputTokens: 40, modelCalls: 2 });

    const calls = bedrock.commandCalls(ConverseCommand);
    const first = calls[0]?.args[0].input;
    expect(first?.toolConfig?.tools?.map((t) => t.toolSpec?.name)).toEqual(['calculator', 'current_time']);
    expect(first?.system?.[0]?.text).toContain('Smile Dental');
    expect(first?.system?.[0]?.text).toContain('Prefers mornings');
    const second = calls[1]?.args[0].input;
    const toolResult = second?.messages?.at(-1)?.content?.[0]?.toolResult;
    expect(toolResult).toMatchObject({ toolUseId: 't1' });
    expect(JSON.parse(toolResult?.content?.[0]?.text ?? '{}')).toEqual({
      expression: '12*(3+4)',
      result: 84,
    });
  });

  it('hands a failing tool back to the model as an error it can recover from', async () => {
    bedrock
      .on(ConverseCommand)
      .resolvesOnce(toolUse('t1', 'calculator', { expression: '1/0' }))
      .resolvesOnce(toolUse('t2', 'send_sms', { to: '+14155550100', body: 'hi' }))
      .resolvesOnce(answer('I could not do that.'));
    const result = await runTurn(
      { model: model(), tools },
      { agent: agentWith(), history: [], userText: 'divide 1 by 0' },
    );
    expect(result.toolRuns.map((r) => [r.name, r.status])).toEqual([
      ['calculator', 'failed'],
      ['send_sms', 'failed'],
    ]);
    expect(result.toolRuns[1]?.error).toBe('no tool send_sms is available');
    const status = bedrock.commandCalls(ConverseCommand)[1]?.args[0].input.messages?.at(-1)?.content?.[0]
      ?.toolResult?.status;
    expect(status).toBe('error');
  });

  it(`stops a model that keeps calling tools after ${MAX_TOOL_ROUNDS} rounds, with a clear error`, async () => {
    bedrock.on(ConverseCommand).resolves(toolUse('loop', 'current_time', {}));
    const failure = await runTurn(
      { model: model(), tools },
      { agent: agentWith(), history: [], userText: 'time?' },
    ).catch((e) => e);
    expect(failure).toBeInstanceOf(TurnFailure);
    expect(failure.reason.code).toBe('TOOL_ROUNDS_EXCEEDED');
    expect(failure.toolRuns).toHaveLength(MAX_TOOL_ROUNDS);
    expect(failure.usage.modelCalls).toBe(MAX_TOOL_ROUNDS);
  });

  it('reports a provider failure with the usage so far', async () => {
    bedrock
      .on(ConverseCommand)
      .rejects(Object.assign(new Error('Malformed input'), { name: 'ValidationException' }));
    const failure = await runTurn(
      { model: model(), tools },
      { agent: agentWith(), history: [], userText: 'hi' },
    ).catch((e) => e);
    expect(failure).toBeInstanceOf(TurnFailure);
    expect(failure.usage.modelCalls).toBe(0);
  });
});

describe('context window', () => {
  const history = (count: number, size: number): Message[] =>
    Array.from({ length: count }, (_, i) => ({
      id: `exe_${String(i).padStart(4, '0')}#${(i % 2) + 1}`,
      conversationId: 'cnv_x',
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `message ${i} ${'x'.repeat(size)}`,
      executionId: `exe_${i}`,
      createdAt: new Date().toISOString(),
    }));

  it('folds history that no longer fits into the running summary, through the same model', async () => {
    const agent = agentWith({
      model: { provider: 'scripted', modelId: 'scripted-v1', maxTokens: 500 },
      tools: [],
    });
    const long = history(40, 800); // ≈ 8,000 tokens: more than the scripted model's 8k window leaves for history
    const result = await runTurn(
      { model: new ScriptedModel(), tools },
      { agent, history: long, userText: 'hello' },
    );
    expect(result.summary).toBeDefined();
    expect(result.usage.modelCalls).toBe(2);
    const through = Number(result.summary?.through.slice(4, 8));
    expect(through).toBeGreaterThan(0);
    expect(through).toBeLessThan(39);
  });

  it('sends short histories as they are', async () => {
    const agent = agentWith({ model: { provider: 'scripted', modelId: 'scripted-v1' }, tools: [] });
    const result = await runTurn(
      { model: new ScriptedModel(), tools },
      { agent, history: history(4, 20), userText: 'hello' },
    );
    expect(result.summary).toBeUndefined();
    expect(result.usage.modelCalls).toBe(1);
  });
});

describe('a turn under a deadline', () => {
  const agent = () =>
    agentWith({ model: { provider: 'scripted', modelId: 'scripted-v1' }, tools: ['calculator'] });
  /** The scripted model on a fake clock: each call takes `callMs`; counts its calls. */
  function slowModel(clock: { t: number }, callMs: number) {
    const scripted = new ScriptedModel();
    const calls: number[] = [];
    return {
      calls,
      model: {
        name: 'scripted',
        converse: async (request: Parameters<ScriptedModel['converse']>[0]) => {
          calls.push(clock.t);
          clock.t += callMs;
          return scripted.converse(request);
        },
      },
    };
  }
  const deadline = (clock: { t: number }, at: number) => ({
    at,
    modelCallMs: 1000,
    toolRoundMs: 100,
    now: () => clock.t,
  });
  /** As stored: a checkpoint is JSON. */
  const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value));

  it('does not start a model call that would end past the deadline, and goes on from there once', async () => {
    const clock = { t: 0 };
    const slow = slowModel(clock, 1000);
    const first = await runTurn(
      { model: slow.model, tools, deadline: deadline(clock, 1500) },
      { agent: agent(), history: [], userText: 'what is 12*(3+4)?' },
    );
    // Call 1 (0 → 1000 ms) asked for the calculator; its round fit (100 ms); call 2 would end at 2000.
    expect(slow.calls).toEqual([0]);
    expect(first.deferred).toBeDefined();
    expect(first.reply).toBe('');
    expect(first.toolRuns.map((r) => [r.name, r.status])).toEqual([['calculator', 'succeeded']]);
    expect(first.usage.modelCalls).toBe(1);
    expect(first.deferred?.round).toBe(2);
    expect(first.deferred?.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);

    const rest = await runTurn(
      { model: slow.model, tools },
      { agent: agent(), history: [], userText: 'what is 12*(3+4)?', resume: stored(first.deferred!) },
    );
    expect(rest.deferred).toBeUndefined();
    expect(rest.reply).toContain('84');
    // The calculator is not run again; the usage counts both parts.
    expect(rest.toolRuns).toEqual([]);
    expect(slow.calls).toHaveLength(2);
    expect(rest.usage.modelCalls).toBe(2);
    expect(rest.usage.inputTokens).toBeGreaterThan(first.usage.inputTokens);
  });

  it('leaves a tool round that does not fit to the part that goes on, which runs it once', async () => {
    const clock = { t: 0 };
    const slow = slowModel(clock, 1000);
    const first = await runTurn(
      { model: slow.model, tools, deadline: deadline(clock, 1050) },
      { agent: agent(), history: [], userText: 'what is 12*(3+4)?' },
    );
    expect(first.toolRuns).toEqual([]);
    expect(first.deferred?.messages.at(-1)).toMatchObject({
      role: 'assistant',
      content: [expect.objectContaining({ type: 'toolUse', name: 'calculator' })],
    });
    const rest = await runTurn(
      { model: slow.model, tools, deadline: deadline(clock, 10_000) },
      { agent: agent(), history: [], userText: 'ignored on resume', resume: stored(first.deferred!) },
    );
    expect(rest.toolRuns.map((r) => r.name)).toEqual(['calculator']);
    expect(rest.reply).toContain('84');
    expect(slow.calls).toEqual([0, 1000]);
    expect(rest.usage.modelCalls).toBe(2);
  });

  it('starts nothing when even the first model call does not fit, and still keeps the tool-round bound', async () => {
    const clock = { t: 0 };
    const slow = slowModel(clock, 1000);
    const first = await runTurn(
      { model: slow.model, tools, deadline: deadline(clock, 999) },
      { agent: agent(), history: [], userText: 'what is 2+2?' },
    );
    expect(slow.calls).toEqual([]);
    expect(first.deferred).toMatchObject({ round: 1, usage: { modelCalls: 0 } });

    // A checkpoint at the last round whose tools are pending: after them, no further model call.
    bedrock.on(ConverseCommand).resolves(toolUse('loop', 'calculator', { expression: '1+1' }));
    const looping = await runTurn(
      { model: model(), tools, deadline: deadline(clock, 0) },
      {
        agent: agentWith(),
        history: [],
        userText: 'x',
        resume: {
          ...stored(first.deferred!),
          round: MAX_TOOL_ROUNDS,
          messages: [
            { role: 'user', content: [{ type: 'text', text: 'x' }] },
            {
              role: 'assistant',
              content: [{ type: 'toolUse', id: 'loop', name: 'calculator', input: { expression: '1+1' } }],
            },
          ],
        },
      },
    );
    // The deadline had passed: the pending round is left for later, not run.
    expect(looping.deferred?.round).toBe(MAX_TOOL_ROUNDS);
    const failure = await runTurn(
      { model: model(), tools },
      { agent: agentWith(), history: [], userText: 'x', resume: stored(looping.deferred!) },
    ).catch((e) => e);
    expect(failure.reason.code).toBe('TOOL_ROUNDS_EXCEEDED');
    expect(failure.toolRuns).toHaveLength(1);
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(0);
  });
});

describe('what a turn tells its watchers', () => {
  const agent = () =>
    agentWith({ model: { provider: 'scripted', modelId: 'scripted-v1' }, tools: ['calculator'] });

  it('thinking before each model call, tool runs started and ended, the reply streamed', async () => {
    const events: TurnEvent[] = [];
    const result = await runTurn(
      { model: new ScriptedModel(), tools, emit: (event) => events.push(event) },
      { agent: agent(), history: [], userText: 'what is 12*(3+4)? and what is 1/0?' },
    );
    const deltas = events.filter((event) => event.type === 'agent_message_delta');
    expect(events.filter((event) => event.type !== 'agent_message_delta')).toEqual([
      { type: 'agent_thinking' },
      { type: 'tool_execution', tool: 'calculator', status: 'started' },
      { type: 'tool_execution', tool: 'calculator', status: 'succeeded' },
      { type: 'agent_thinking' },
    ]);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((delta) => delta.text).join('')).toBe(result.reply);
    // The deltas come last: after the second thinking.
    expect(events.findIndex((event) => event.type === 'agent_message_delta')).toBe(4);
  });

  it('says a tool run failed, and why', async () => {
    bedrock
      .on(ConverseCommand)
      .resolvesOnce(toolUse('t1', 'send_sms', { to: '+14155550100', body: 'hi' }))
      .resolvesOnce(answer('I could not.'));
    const events: TurnEvent[] = [];
    // Without streaming: a provider that has only converse is called with it, watched or not.
    const bedrockModel = model();
    const unstreamed = { name: bedrockModel.name, converse: bedrockModel.converse.bind(bedrockModel) };
    await runTurn(
      { model: unstreamed, tools, emit: (event) => events.push(event) },
      { agent: agentWith(), history: [], userText: 'text them' },
    );
    expect(events).toContainEqual({
      type: 'tool_execution',
      tool: 'send_sms',
      status: 'failed',
      error: 'no tool send_sms is available',
    });
  });

  it('streams only when someone watches, and never the summary call', async () => {
    const scripted = new ScriptedModel();
    const streamed = jest.spyOn(scripted, 'converseStream');
    const plain = jest.spyOn(scripted, 'converse');
    const long = Array.from({ length: 40 }, (_, i) => ({
      id: `exe_${String(i).padStart(4, '0')}#${(i % 2) + 1}`,
      conversationId: 'cnv_x',
      role: (i % 2 === 0 ? 'user' : 'assistant') as 'user' | 'assistant',
      content: `message ${i} ${'x'.repeat(800)}`,
      executionId: `exe_${i}`,
      createdAt: new Date().toISOString(),
    }));
    const smallWindow = agentWith({
      model: { provider: 'scripted', modelId: 'scripted-v1', maxTokens: 500 },
      tools: [],
    });
    await runTurn(
      { model: scripted, tools, emit: () => undefined },
      { agent: smallWindow, history: long, userText: 'hello' },
    );
    expect(plain).toHaveBeenCalledTimes(1);
    expect(streamed).toHaveBeenCalledTimes(1);
    await runTurn({ model: scripted, tools }, { agent: smallWindow, history: [], userText: 'hello' });
    expect(streamed).toHaveBeenCalledTimes(1);
    expect(plain).toHaveBeenCalledTimes(2);
  });
});

describe('a model call that would outlive the deadline', () => {
  it('is given up on shortly after the deadline, and the turn stops as if it had not started', async () => {
    const agent = agentWith({
      model: { provider: 'scripted', modelId: 'scripted-v1' },
      tools: ['calculator'],
    });
    // Quick the first time (asks for the calculator), then far slower than any call before it.
    const quick = new ScriptedModel();
    const slow = new ScriptedModel({ delayMs: 60_000 });
    let calls = 0;
    const model = {
      name: 'scripted',
      converse: (request: Parameters<ScriptedModel['converse']>[0]) =>
        ++calls === 1 ? quick.converse(request) : slow.converse(request),
    };
    const started = Date.now();
    const result = await runTurn(
      {
        model,
        tools,
        deadline: { at: started + 100, modelCallMs: 10, toolRoundMs: 10, graceMs: 50 },
      },
      { agent, history: [], userText: 'what is 12*(3+4)?' },
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls).toBe(2);
    // The abandoned call is not counted; the tool round before it is kept.
    expect(result.deferred).toMatchObject({ round: 2, usage: { modelCalls: 1 } });
    expect(result.toolRuns.map((run) => run.name)).toEqual(['calculator']);
  });
});
