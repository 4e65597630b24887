/**
 * What the customer wrote in this email, without the history their client quoted below it: the
 * agent already has the conversation, and a quoted copy of its own previous answer would be read
 * as new input (and paid for again as tokens).
 *
 * A small function rather than a library: the well-kept one (`email-reply-parser`) ships as ES
 * modules only, reads `import.meta.url` at load (which a CommonJS Lambda bundle does not have) and
 * wants Node 22 for its regular expressions. The shapes it looks for are few and documented below,
 * each with a test.
 */

/**
 * Lines that open the quoted part, as clients write them. `On … wrote:` (Gmail, Apple Mail,
 * Thunderbird) is matched over up to three lines because clients wrap it; the localised forms of
 * the same line are the common European ones.
 */
const ATTRIBUTION_LINE =
  /^(?:On\b[^\n]{0,300}?\bwrote|Le\b[^\n]{0,300}?\ba écrit|Am\b[^\n]{0,300}?\bschrieb[^\n]{0,200}?|El\b[^\n]{0,300}?\bescribió|Op\b[^\n]{0,300}?\bschreef[^\n]{0,200}?|Il\b[^\n]{0,300}?\bha scritto)\s?:\s*$/i;

/** Separators Outlook and others put above the quoted message. */
const SEPARATOR_LINE =
  /^\s*(?:-{2,}\s*(?:Original Message|Mensaje original|Message d'origine|Ursprüngliche Nachricht|Oorspronkelijk bericht)\s*-{2,}|_{10,}|-{10,}|={10,})\s*$/i;

/** Outlook's plain-text header block of the quoted message: `From:` then `Sent:`/`Date:` within a few lines. */
const HEADER_FROM_LINE = /^\s*\*?(?:From|De|Von|Van|Da)\s?:\*?\s+\S/i;
const HEADER_SENT_LINE = /^\s*\*?(?:Sent|Date|Envoyé|Gesendet|Verzonden|Enviado|Inviato)\s?:\*?\s+\S/i;

/** The signature delimiter of RFC 3676 §4.3 (`-- `), tolerated without its trailing space. */
const SIGNATURE_DELIMITER = /^-- ?$/;

/** The one-line footers mobile clients append (nothing the customer typed). */
const CLIENT_FOOTER =
  /^\s*(?:Sent from my \w+(?: \w+)?|Sent from (?:Mail|Outlook) for \w+|Get Outlook for \w+(?: \w+)?|Sent from Yahoo Mail[^\n]*|Envoyé de mon \w+|Von meinem \w+ gesendet)\.?\s*(?:<https?:\/\/[^\s>]*>)?\s*$/i;

/** How many lines an attribution may be wrapped over. */
const ATTRIBUTION_MAX_LINES = 3;

/** The customer's own text of a plain-text email body: quoted history, signature and client footers cut. */
export function stripQuotedHistory(body: string): string {
  const lines = body.replace(/\r\n?/g, '\n').split('\n');
  const end = quoteStart(lines);
  const own = lines
    .slice(0, end)
    .filter((line) => !line.startsWith('>'))
    .filter((line) => !CLIENT_FOOTER.test(line));
  const text = collapseBlankLines(own).trim();
  // A message that is nothing but quotation (a bare forward, a client that quotes on top) keeps its
  // text: the customer sent it for a reason, and an empty message would reach the agent as nothing.
  return text === '' ? collapseBlankLines(lines).trim() : text;
}

/** The index of the first line of the quoted history or signature (`lines.length` when there is none). */
function quoteStart(lines: readonly string[]): number {
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    if (SIGNATURE_DELIMITER.test(line) || SEPARATOR_LINE.test(line)) return index;
    if (isAttribution(lines, index)) return index;
    if (HEADER_FROM_LINE.test(line) && sentLineFollows(lines, index)) return index;
  }
  return lines.length;
}

function isAttribution(lines: readonly string[], index: number): boolean {
  const first = lines[index] as string;
  if (!/^\s*(?:On|Le|Am|El|Op|Il)\b/i.test(first)) return false;
  let joined = '';
  for (let offset = 0; offset < ATTRIBUTION_MAX_LINES && index + offset < lines.length; offset++) {
    const line = (lines[index + offset] as string).trim();
    if (line === '') return false;
    joined = joined === '' ? line : `${joined} ${line}`;
    if (ATTRIBUTION_LINE.test(joined)) return true;
  }
  return false;
}

function sentLineFollows(lines: readonly string[], index: number): boolean {
  for (let next = index + 1; next <= index + 4 && next < lines.length; next++) {
    if (HEADER_SENT_LINE.test(lines[next] as string)) return true;
  }
  return false;
}

function collapseBlankLines(lines: readonly string[]): string {
  return lines
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}
