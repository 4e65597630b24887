import { clip } from './scripted-answers';

/**
 * How the scripted model reads a customer's clause: where its phone numbers, e-mail addresses,
 * amounts of money, arithmetic and message bodies are. Plain rules over text, no model.
 */
export type Input = Record<string, unknown>;
/** What the rule needs and did not find, as a question to the user. */
export interface Missing {
  readonly missing: string;
}

export const ASKS_HOW = /^\s*(?:how|what|when|where|why|which|who)\b/i;

export function isMissing(built: Input | Missing): built is Missing {
  return typeof built.missing === 'string' && Object.keys(built).length === 1;
}

/** Sentences, lines and "then" separate instructions; "and" does not (it is inside messages too often). */
export function clausesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?;])\s+|\n+|,?\s+(?:and\s+)?then\s+/i)
    .map((clause) => clause.trim())
    .filter((clause) => clause !== '');
}

export const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;

/** The most identical SMS one message may ask for: an obedient model still has an output limit. */
const MAX_BULK = 100;
export const BULK_BODY = 'Hello!';

/** "send 100 SMS", "send 5 texts", "send 3 messages": how many; 1 when no number is given. */
export function bulkCount(clause: string): number {
  const asked =
    /\b(?:send|write)\s+(?:me\s+|them\s+|him\s+|her\s+)?(\d{1,4})\s+(?:sms(?:es)?|texts?|text\s+messages?|messages?)\b/i.exec(
      clause,
    )?.[1];
  const count = Number(asked ?? 1);
  return count >= 2 ? Math.min(count, MAX_BULK) : 1;
}

/** The JSON object written in the clause (from its first `{` to its last `}`), if it parses as one. */
export function jsonObjectIn(clause: string): Input | undefined {
  const start = clause.indexOf('{');
  const end = clause.lastIndexOf('}');
  if (start < 0 || end < start) return undefined;
  try {
    const value: unknown = JSON.parse(clause.slice(start, end + 1));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Input) : undefined;
  } catch {
    return undefined;
  }
}

export function message(clause: string, what: string, fallbackBody?: string): Input | Missing {
  const phone = phoneIn(clause);
  if (!phone) {
    return {
      missing: `To send ${what} I need the recipient's phone number in international format, e.g. +15551234567, and the text to send.`,
    };
  }
  const body = bodyOf(clause.slice(phone.end)) ?? bodyOf(clause) ?? fallbackBody;
  if (!body) return { missing: `What should ${what} to ${phone.number} say?` };
  return { to: phone.number, body };
}

/** The first E.164 number: written compact (+15551234567) or grouped (+1 555-123-4567). */
export function phoneIn(clause: string): { number: string; end: number } | undefined {
  const match = /\+[1-9]\d{6,14}\b/.exec(clause) ?? /\+[1-9](?:[\s.()-]{0,2}\d){6,14}\b/.exec(clause);
  if (!match) return undefined;
  const number = `+${match[0].replace(/\D/g, '')}`;
  return /^\+[1-9]\d{6,14}$/.test(number) ? { number, end: match.index + match[0].length } : undefined;
}

/** The text a message should carry: after "saying", "that says", "with the message" or ": ". */
export function bodyOf(text: string): string | undefined {
  const match =
    /(?:\b(?:saying|that\s+says|which\s+says|with\s+the\s+(?:message|text)|with\s+message)\b\s*:?|:)\s+(.+)$/is.exec(
      text,
    );
  const body = match?.[1]
    ?.trim()
    .replace(/^(["'“‘])(.*)["'”’]$/s, '$2')
    .trim();
  return body ? clip(body, 1600) : undefined;
}

/** An ISO date with a time (2026-03-14T10:30, 2026-03-14 10:30, 2026-03-14 at 10:30), kept as written. */
export function startOf(clause: string): string | undefined {
  const match =
    /\b(\d{4})-(\d{2})-(\d{2})(?:(?:T|\s+(?:at\s+)?)(\d{1,2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?\b/i.exec(
      clause,
    );
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, zone] = match;
  const time = hour && minute ? [hour, minute] : /\bat\s+(\d{1,2}):(\d{2})\b/.exec(clause)?.slice(1);
  const [h, m] = time ?? [];
  if (!h || !m || Number(h) > 23 || Number(m) > 59 || Number(month) < 1 || Number(month) > 12)
    return undefined;
  if (Number(day) < 1 || Number(day) > 31) return undefined;
  return `${year}-${month}-${day}T${h.padStart(2, '0')}:${m}:${second ?? '00'}${zone ?? ''}`;
}

const CURRENCY_WORDS: Readonly<Record<string, string>> = {
  $: 'USD',
  '€': 'EUR',
  '£': 'GBP',
  usd: 'USD',
  eur: 'EUR',
  gbp: 'GBP',
  dollar: 'USD',
  dollars: 'USD',
  euro: 'EUR',
  euros: 'EUR',
  pound: 'GBP',
  pounds: 'GBP',
};

export function moneyIn(clause: string): { amount: number; currency: string; end: number } | undefined {
  const amount = String.raw`(\d+(?:\.\d{1,2})?)`;
  const forms: readonly [RegExp, number, number][] = [
    [new RegExp(String.raw`([$€£])\s?${amount}`), 2, 1],
    [new RegExp(String.raw`${amount}\s?(usd|eur|gbp|dollars?|euros?|pounds?)\b`, 'i'), 1, 2],
    // Any other ISO 4217 code only in capitals: "for" after a number is not a currency.
    [new RegExp(String.raw`${amount}\s?([A-Z]{3})\b`), 1, 2],
    [new RegExp(String.raw`\b([A-Z]{3})\s?${amount}`), 2, 1],
  ];
  for (const [form, amountAt, currencyAt] of forms) {
    const match = form.exec(clause);
    const value = Number(match?.[amountAt]);
    const code = match?.[currencyAt];
    if (!match || !code || !(value > 0)) continue;
    return {
      amount: value,
      currency: CURRENCY_WORDS[code.toLowerCase()] ?? code,
      end: match.index + match[0].length,
    };
  }
  return undefined;
}

/** The longest run of arithmetic in the clause with an operator between two numbers. */
export function expressionIn(clause: string): string | undefined {
  const normalized = clause
    .replace(/×/g, '*')
    .replace(/÷/g, '/')
    .replace(/(\d)\s*x\s*(?=[\d(])/gi, '$1*');
  const runs = normalized.match(/[\d.+\-*/^%()\s]+/g) ?? [];
  const candidates = runs
    .map((run) => run.trim())
    .filter((run) => /\d\s*\)*\s*[-+*/^%]\s*\(*\s*[\d.]/.test(run))
    // Dates (2026-03-14) and phone numbers (555-123-4567) are not subtractions.
    .filter((run) => !/^\d+(?:-\d+){2,}$/.test(run))
    .sort((a, b) => b.length - a.length);
  return candidates[0];
}

// ── Answers: tool results and the system prompt ───────────────────────────────────────────────
