import type { Agent } from '../agents/schemas';
import type { Customer } from '../conversations/customers';
import { estimateTokens } from './context-window';

export interface PromptContext {
  readonly agent: Agent;
  readonly customer?: Customer;
  readonly memories?: readonly { readonly type: string; readonly content: string }[];
  readonly summary?: string;
  /** Structured context of an execute task, shown to the model as JSON. */
  readonly taskContext?: Record<string, unknown>;
}

const section = (title: string, lines: readonly (string | undefined | false)[]) => {
  const body = lines.filter((line): line is string => typeof line === 'string' && line.length > 0);
  return body.length > 0 ? `## ${title}\n${body.join('\n')}` : '';
};

function knowledgeBase(agent: Agent): string {
  const kb = agent.knowledgeBase;
  return section('Knowledge base', [
    ...kb.products.map(
      (p) =>
        `- Product: ${p.name}${p.price === undefined ? '' : ` — ${p.price}${p.currency ? ` ${p.currency}` : ''}`}${p.description ? `. ${p.description}` : ''}`,
    ),
    ...kb.policies.map((p) => `- Policy: ${p.title}. ${p.content}`),
    ...kb.faqs.map((f) => `- FAQ: ${f.question} ${f.answer}`),
    ...kb.contacts.map((c) => `- Contact: ${[c.name, c.role, c.phone, c.email].filter(Boolean).join(', ')}`),
  ]);
}

/**
 * The system prompt: who the agent is (instructions, personality), what it knows (business
 * profile, knowledge base), whom it talks to (customer context, memories) and what came before
 * (conversation summary). A knowledge base too large for `maxTokens` is cut, and the model is
 * told to use `knowledge_lookup` for the rest.
 */
export function buildSystemPrompt(context: PromptContext, maxTokens: number): string {
  const { agent, customer } = context;
  const profile = agent.businessProfile;
  const p = agent.personality;
  const head = [
    `You are ${agent.name}, the ${agent.businessType} assistant${profile ? ` of ${profile.name}` : ''}.${agent.description ? ` ${agent.description}` : ''}`,
    section('Instructions', [agent.instructions]),
    section('Personality', [
      p.traits.length > 0 && `Traits: ${p.traits.join(', ')}.`,
      p.tone && `Tone: ${p.tone}.`,
      p.behaviour,
      p.languageStyle && `Language style: ${p.languageStyle}.`,
    ]),
    profile
      ? section('Business profile', [
          `Name: ${profile.name}.`,
          profile.description,
          profile.website && `Website: ${profile.website}.`,
          profile.phone && `Phone: ${profile.phone}.`,
          profile.email && `Email: ${profile.email}.`,
          profile.address && `Address: ${profile.address}.`,
          profile.hours.length > 0 &&
            `Opening hours: ${profile.hours.map((h) => `${h.day} ${h.opens}-${h.closes}`).join('; ')}.`,
        ])
      : '',
  ];
  const tail = [
    customer
      ? section('Customer', [
          customer.name && `Name: ${customer.name}.`,
          ...Object.entries(customer.context).map(([key, value]) => `${key}: ${value}.`),
        ])
      : '',
    section(
      'What you remember',
      (context.memories ?? []).map((m) => `- (${m.type}) ${m.content}`),
    ),
    section('Earlier in this conversation', [context.summary]),
    context.taskContext ? section('Task context (JSON)', [JSON.stringify(context.taskContext)]) : '',
    section('Rules', [
      'Answer from the information above. If you do not know, say so and offer to connect the customer with a person.',
      'Use the tools you are given when they help; never invent a tool result.',
    ]),
  ];
  const without = [...head, ...tail].filter(Boolean).join('\n\n');
  let kb = knowledgeBase(agent);
  const room = maxTokens - estimateTokens(without);
  if (estimateTokens(kb) > room) {
    kb = `${kb.slice(0, Math.max(0, room * 4 - 120))}\n(The knowledge base continues; use knowledge_lookup for the rest.)`;
  }
  return [...head, kb, ...tail].filter(Boolean).join('\n\n');
}
