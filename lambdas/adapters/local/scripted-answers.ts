import type { ModelMessage } from '../../domain/runtime/model';

/**
 * The scripted model's words when it calls no tool: what the tools it ran returned, answers
 * from the system prompt's own lines, and running summaries. Deterministic text rules, no model.
 */
const RESULT_PHRASES: Readonly<Record<string, (value: string) => string>> = {
  calculator: (value) => `The result is ${value}.`,
  current_time: (value) => `It is ${value}.`,
  knowledge_lookup: (value) => `Here is what I found: ${value}`,
  memory_search: (value) => `Here is what I remember: ${value}`,
  http_request: (value) => `The request returned: ${value}`,
};

const TOOL_LABELS: Readonly<Record<string, string>> = {
  send_sms: 'the SMS',
  send_whatsapp: 'the WhatsApp message',
  send_email: 'the email',
  place_call: 'the call',
  book_appointment: 'the booking',
  take_payment: 'the payment',
  escalate: 'the hand-over',
  notify_coordinator: 'the notification',
  request_approval: 'the approval request',
  create_resource: 'the new record',
  read_resource: 'the record lookup',
  calculator: 'the calculation',
  current_time: 'the time lookup',
  knowledge_lookup: 'the knowledge-base lookup',
  memory_search: 'the memory search',
  http_request: 'the request',
};

export function describeResults(messages: readonly ModelMessage[], last: ModelMessage): string {
  const toolNames = new Map<string, string>();
  for (const message of messages) {
    for (const block of message.content) if (block.type === 'toolUse') toolNames.set(block.id, block.name);
  }
  const sentences = last.content.flatMap((block) => {
    if (block.type !== 'toolResult') return [];
    const tool = toolNames.get(block.toolUseId) ?? 'tool';
    const label = TOOL_LABELS[tool] ?? tool.replace(/_/g, ' ');
    if (block.isError) return [endSentence(`I couldn't complete ${label}: ${block.content.trim()}`)];
    const value = describeValue(parseJson(block.content));
    if (value === NOTHING) return [`${sentenceCase(label)} returned nothing.`];
    const phrase = RESULT_PHRASES[tool];
    return [phrase ? endSentence(phrase(value)) : endSentence(`Result of ${label}: ${value}`)];
  });
  return sentences.join(' ');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Keys whose value is the answer, when a result is an object. */
const ANSWER_KEYS = [
  'result',
  'value',
  'answer',
  'results',
  'matches',
  'memories',
  'items',
  'text',
  'content',
  'body',
  'local',
  'time',
  'datetime',
  'iso',
  'now',
  'status',
];

const NOTHING = 'nothing';

function describeValue(value: unknown, depth = 0): string {
  if (value === null || value === undefined) return NOTHING;
  if (typeof value !== 'object') return clip(String(value), 600);
  if (depth > 2) return clip(JSON.stringify(value), 200);
  if (Array.isArray(value)) {
    return value.length === 0
      ? NOTHING
      : clip(
          value
            .slice(0, 5)
            .map((item) => describeValue(item, depth + 1))
            .join('; '),
          600,
        );
  }
  const record = value as Record<string, unknown>;
  const key = ANSWER_KEYS.find((candidate) => record[candidate] !== undefined && record[candidate] !== null);
  if (key) return describeValue(record[key], depth + 1);
  const entries = Object.entries(record).filter(([, item]) => item !== undefined && item !== null);
  if (entries.length === 0) return NOTHING;
  return clip(
    entries
      .slice(0, 8)
      .map(([name, item]) => `${name}: ${describeValue(item, depth + 1)}`)
      .join(', '),
    600,
  );
}

const STOP_WORDS = new Set(
  (
    'a an the is are was were be been am do does did you your yours i me my mine we our us it its of to in on at ' +
    'for with and or but not no what when where which who whom how why can could would should will shall may might ' +
    'please about tell there here this that these those have has had any some know like want need get give ' +
    'hi hello hey thanks thank just also if so as by from up out into than then them they their he she him her'
  ).split(' '),
);

/** Words that mean the same thing for this purpose, and day names, mapped to one form. */
const SYNONYMS: Readonly<Record<string, string>> = {
  open: 'hour',
  opens: 'hour',
  opening: 'hour',
  close: 'hour',
  closes: 'hour',
  closing: 'hour',
  closed: 'hour',
  hours: 'hour',
  prices: 'price',
  pricing: 'price',
  cost: 'price',
  costs: 'price',
  fee: 'price',
  fees: 'price',
  much: 'price',
  // Prices are written as amounts with a currency code.
  usd: 'price',
  eur: 'price',
  gbp: 'price',
  refunds: 'refund',
  return: 'refund',
  returns: 'refund',
  cancellation: 'cancel',
  cancelling: 'cancel',
  canceling: 'cancel',
  cancels: 'cancel',
  monday: 'mon',
  tuesday: 'tue',
  wednesday: 'wed',
  thursday: 'thu',
  friday: 'fri',
  saturday: 'sat',
  sunday: 'sun',
};

function termsOf(text: string): Set<string> {
  const terms = new Set<string>();
  for (const raw of text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? []) {
    const word = raw.replace(/'s$/, '');
    if (STOP_WORDS.has(word)) continue;
    const stem = SYNONYMS[word] ?? singular(word);
    terms.add(SYNONYMS[stem] ?? stem);
  }
  return terms;
}

function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  return word.length > 3 && /[^su]s$/.test(word) ? word.slice(0, -1) : word;
}

interface Unit {
  readonly text: string;
  readonly terms: Set<string>;
  readonly headingTerms: Set<string>;
}

/** Lines (long ones cut into sentences) that can be said to a customer, each with its heading's words. */
function unitsOf(system: string): Unit[] {
  const units: Unit[] = [];
  let heading = '';
  for (const rawLine of system.split(/\n+/)) {
    const line = rawLine.replace(/^[\s>#*•-]+|^\d+[.)]\s+/g, '').trim();
    if (!line) continue;
    if (/^#/.test(rawLine.trim()) || (/:$/.test(line) && line.length <= 60)) {
      heading = line.replace(/:$/, '');
      continue;
    }
    // Instructions to the assistant are not answers to the customer.
    if (/instruction|personality|tone|behaviou?r|style|rules|guideline/i.test(heading)) continue;
    if (
      /^(?:you\b|you're\b|your\s+(?:tone|role|job|task|name|goal)\b|always\b|never\b|do\s+not\b|don't\b)/i.test(
        line,
      )
    ) {
      continue;
    }
    const sentences = line.length > 240 ? line.split(/(?<=[.!?])\s+/) : [line];
    for (const text of sentences) {
      units.push({ text, terms: termsOf(text), headingTerms: termsOf(heading) });
    }
  }
  return units;
}

const THANKS = /^\s*(?:thanks|thank\s+you|cheers|great|perfect|ok(?:ay)?)\b[^?]*$/i;
const GREETING = /^\s*(?:hi|hello|hey|good\s+(?:morning|afternoon|evening)|greetings)\b/i;
const ABOUT_ME =
  /\b(?:are\s+you\s+(?:an?\s+)?(?:bot|robot|ai|human|real|person|machine|chat\s?gpt|gpt|claude|llm|language\s+model)|what\s+(?:model|ai|llm)\s+are\s+you|which\s+(?:model|ai|llm)|who\s+(?:made|built|created)\s+you)\b/i;

/**
 * The best lines of the system prompt for the question: a word scores by how rare it is in the
 * prompt (a business name in every line says little), a match in a line's heading scores half.
 */
export function answerFromPrompt(question: string, system: string): string {
  const business = businessName(system);
  if (ABOUT_ME.test(question)) {
    return `I'm ${business}'s automated assistant with scripted replies: I answer from fixed rules and ${business}'s information, not from a language model.`;
  }
  const asked = termsOf(question);
  const units = unitsOf(system);
  const frequency = new Map<string, number>();
  for (const unit of units) {
    for (const term of new Set([...unit.terms, ...unit.headingTerms])) {
      frequency.set(term, (frequency.get(term) ?? 0) + 1);
    }
  }
  const scored = units.map((unit, position) => {
    let score = 0;
    for (const term of asked) {
      const weight = Math.log(1 + units.length / (frequency.get(term) ?? 1));
      if (unit.terms.has(term)) score += weight;
      else if (unit.headingTerms.has(term)) score += weight / 2;
    }
    return { unit, position, score };
  });
  const best = Math.max(0, ...scored.map((entry) => entry.score));
  if (best > 0) {
    return scored
      .filter((entry) => entry.score >= best * 0.6)
      .sort((a, b) => b.score - a.score || a.position - b.position)
      .slice(0, 5)
      .sort((a, b) => a.position - b.position)
      .map((entry) => endSentence(entry.unit.text))
      .join(' ');
  }
  if (THANKS.test(question)) return "You're welcome! Is there anything else I can help you with?";
  if (GREETING.test(question)) return `Hello! Welcome to ${business}. How can I help you today?`;
  return `I'm sorry, I don't have information about that. I can answer questions about ${business} from what I have been told, or put you in touch with a person.`;
}

/** "Name: X" opening a business profile section, "Business name: X", or "assistant of X" (capitalised words). */
function businessName(system: string): string {
  const labelled =
    /^#+\s*business\s+profile\s*\n+\s*name\s*:\s*(.+?)\.?\s*$/im.exec(system)?.[1] ??
    /^[\s>#*•-]*(?:business(?:\s+name)?|company(?:\s+name)?)\s*:\s*(.+?)\.?\s*$/im.exec(system)?.[1];
  if (labelled) return clip(labelled, 80);
  const named =
    /\b(?:assistant|agent|receptionist|representative)\s+(?:for|of|at)\s+([A-Z][\w&'.-]*(?:\s+[A-Z][\w&'.-]*)*)/.exec(
      system,
    )?.[1];
  return named ? clip(named.replace(/[.]+$/, ''), 80) : 'this business';
}

/** Only a prompt that opens with the instruction: an agent's own prompt opens with who it is. */
export const SUMMARY_REQUEST = /^\s*summari[sz]e\b/i;
const SUMMARY_MAX_WORDS = 150;
const SUMMARY_MAX_CHARS = 1000;

/** "Earlier summary: …" then "user: …" / "assistant: …" lines: keeps what the customer said. */
export function summaryOf(transcript: string): string {
  const earlier = /^earlier summary:\s*(.+)$/im.exec(transcript)?.[1]?.trim();
  const said = [...transcript.matchAll(/^user:\s*(.+)$/gim)].map((match) =>
    clip((match[1] ?? '').trim(), 200),
  );
  const parts = [
    ...(earlier ? [earlier] : []),
    ...(said.length > 0 ? [`The customer said: ${said.join(' / ')}`] : []),
  ];
  if (parts.length === 0) return 'Nothing to summarise.';
  // The most recent words matter most: over the cap (in words, and in characters for long
  // words), the oldest go.
  const text = parts.join(' ');
  let tail = text.split(/\s+/).slice(-SUMMARY_MAX_WORDS).join(' ');
  if (tail.length > SUMMARY_MAX_CHARS) tail = tail.slice(-SUMMARY_MAX_CHARS).replace(/^\S*\s/, '');
  return endSentence(tail.length < text.length ? `…${tail}` : tail);
}

// ── Small helpers ─────────────────────────────────────────────────────────────────────────────

export function textOf(message: ModelMessage): string {
  return message.content
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n')
    .trim();
}

function endSentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?…:]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

export function sentenceCase(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function firstWords(text: string, count: number): string {
  const words = text.split(/\s+/);
  return words.length > count ? `${words.slice(0, count).join(' ')}…` : text;
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
