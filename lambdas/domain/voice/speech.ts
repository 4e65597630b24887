/**
 * Speech-shaped replies: what an agent wrote for a screen, reshaped for the ear and wrapped in
 * SSML for Polly (through Lex and Connect). Pure functions, no I/O.
 *
 * - markdown goes (emphasis, headings, code, tables, link syntax): a voice cannot show it;
 * - lists become one spoken sentence ("a, b and c");
 * - URLs become their site's name ("shop.example"): nobody can follow a path read aloud;
 * - currency, clock times and phone numbers are said the way people say them;
 * - replies are short by default: at most `maxSentences` sentences (the prompt asks for brevity
 *   too, this is the backstop), cut at a sentence boundary;
 * - the text is XML-escaped, so nothing the model writes can inject SSML.
 */

export interface SpeechOptions {
  /** Sentences kept; the rest is dropped (0 = keep all). */
  readonly maxSentences?: number;
}

export const DEFAULT_MAX_SENTENCES = 4;

const CURRENCIES: Readonly<Record<string, readonly [string, string, string, string]>> = {
  // symbol: singular, plural, minor singular, minor plural
  $: ['dollar', 'dollars', 'cent', 'cents'],
  '€': ['euro', 'euros', 'cent', 'cents'],
  '£': ['pound', 'pounds', 'penny', 'pence'],
};
const CURRENCY_CODES: Readonly<Record<string, string>> = { USD: '$', EUR: '€', GBP: '£' };

function plural(count: number, one: string, many: string): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}

/** `$1,234.50` → `1,234 dollars and 50 cents`; `€5` → `5 euros`. */
export function spokenAmount(symbol: string, amount: string): string {
  const names = CURRENCIES[symbol];
  if (!names) return `${symbol}${amount}`;
  const [whole = '0', fraction] = amount.replace(/,/g, '').split('.');
  const major = Number.parseInt(whole, 10);
  const minor = fraction ? Number.parseInt(fraction.padEnd(2, '0').slice(0, 2), 10) : 0;
  const majorText = plural(major, names[0], names[1]);
  if (minor === 0) return majorText;
  if (major === 0) return plural(minor, names[2], names[3]);
  return `${majorText} and ${plural(minor, names[2], names[3])}`;
}

/** `14:30` → `2:30 PM`, `09:00` → `9 AM`, `12:15` → `12:15 PM`, `00:00` → `12 AM`. */
export function spokenTime(hours: number, minutes: number, meridiem?: string): string {
  if (meridiem) {
    const suffix = meridiem.toUpperCase().replace(/\./g, '');
    return minutes === 0 ? `${hours} ${suffix}` : `${hours}:${String(minutes).padStart(2, '0')} ${suffix}`;
  }
  const suffix = hours >= 12 ? 'PM' : 'AM';
  const hour12 = hours % 12 === 0 ? 12 : hours % 12;
  return minutes === 0 ? `${hour12} ${suffix}` : `${hour12}:${String(minutes).padStart(2, '0')} ${suffix}`;
}

/** A site's spoken name: the host without `www.`. */
function siteOf(url: string): string {
  try {
    return new URL(url.startsWith('http') ? url : `https://${url}`).hostname.replace(/^www\./, '');
  } catch {
    return 'the link';
  }
}

/** `a`, `a and b`, `a, b and c`. */
export function spokenList(items: readonly string[]): string {
  const clean = items.map((item) => item.trim().replace(/[.;,]+$/, '')).filter(Boolean);
  if (clean.length <= 1) return clean[0] ?? '';
  return `${clean.slice(0, -1).join(', ')} and ${clean[clean.length - 1]}`;
}

const LIST_ITEM = /^\s*(?:[-*+•]|\d{1,2}[.)])\s+(.*)$/;

/** Markdown and layout out, lists joined into sentences: plain text, one paragraph per block. */
export function plainSpeech(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: string[] = [];
  let list: string[] = [];
  let lead: string | undefined;
  const flushList = () => {
    if (list.length === 0) return;
    const spoken = spokenList(list);
    if (lead !== undefined) {
      blocks.pop();
      blocks.push(`${lead.replace(/:\s*$/, '')}: ${spoken}.`);
    } else blocks.push(`${spoken}.`);
    list = [];
    lead = undefined;
  };
  for (const raw of lines) {
    if (/^\s*```/.test(raw) || /^\s*\|?\s*:?-{3,}/.test(raw)) continue;
    const item = LIST_ITEM.exec(raw);
    if (item) {
      if (list.length === 0) {
        const previous = blocks[blocks.length - 1];
        lead = previous !== undefined && /:\s*$/.test(previous) ? previous : undefined;
      }
      list.push(item[1] ?? '');
      continue;
    }
    flushList();
    const line = raw
      .replace(/^\s*#{1,6}\s+/, '')
      .replace(/^\s*>\s?/, '')
      .replace(/\|/g, ' ')
      .trim();
    if (line) blocks.push(line);
  }
  flushList();
  return blocks
    .map((block) => (/[.!?:]$/.test(block) ? block : `${block}.`))
    .join(' ')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_m, label: string, url: string) =>
      /^https?:|^www\./.test(label) ? siteOf(url) : label,
    )
    .replace(/\b(?:https?:\/\/|www\.)[^\s)>\]]+/g, (url) => siteOf(url.replace(/[.,;:!?]+$/, '')))
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,!?;:]|$)/g, '$1$2')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/~~(.+?)~~/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .replace(/:\./g, '.')
    .trim();
}

/** Currency, times and phone numbers in words or `say-as` marks (applied after escaping). */
function spokenNumbers(escaped: string): string {
  return escaped
    .replace(/\b(USD|EUR|GBP)\s?(\d[\d,]*(?:\.\d{1,2})?)\b/g, (_m, code: string, amount: string) =>
      spokenAmount(CURRENCY_CODES[code] ?? '$', amount),
    )
    .replace(/([$€£])\s?(\d[\d,]*(?:\.\d{1,2})?)/g, (_m, symbol: string, amount: string) =>
      spokenAmount(symbol, amount),
    )
    .replace(
      /\b([01]?\d|2[0-3]):([0-5]\d)(?:\s?([AaPp]\.?[Mm]\.?))?(?!\d)/g,
      (_m, h: string, m: string, meridiem: string | undefined) =>
        spokenTime(Number.parseInt(h, 10), Number.parseInt(m, 10), meridiem),
    )
    .replace(/(\+\d{7,15})\b/g, '<say-as interpret-as="telephone">$1</say-as>');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The first `max` sentences (one ends at . ! or ? followed by a space: `2.5` and `$80.50` do not end one). */
export function firstSentences(text: string, max: number): string {
  if (max <= 0) return text;
  return text
    .split(/(?<=[.!?])\s+/)
    .slice(0, max)
    .join(' ')
    .trim();
}

/** Plain speech text of `text`, shortened: what the caller hears, before SSML. */
export function speechText(text: string, options: SpeechOptions = {}): string {
  return firstSentences(plainSpeech(text), options.maxSentences ?? DEFAULT_MAX_SENTENCES);
}

/** The SSML document Lex/Polly speaks for an agent's reply. */
export function toSsml(text: string, options: SpeechOptions = {}): string {
  const spoken = speechText(text, options);
  return `<speak>${spokenNumbers(escapeXml(spoken))}</speak>`;
}

/** SSML for a fixed platform sentence (greetings, fillers, apologies): escaped, never shortened. */
export function ssmlOf(sentence: string): string {
  return `<speak>${spokenNumbers(escapeXml(sentence))}</speak>`;
}

/** What the caller hears, as text: the SSML without its marks (local mode prints this). */
export function ssmlAsText(ssml: string): string {
  return ssml
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}
