/**
 * Whether a received email may reach an agent. Email carries no signature a webhook could check:
 * on AWS the proof that it came through our door is that SES wrote it to our bucket, and SES's
 * receipt verdicts (the rule scans every message) say whether it is spam, carries a virus, or
 * fails sender authentication. The customer is recognised by the From address, so mail whose
 * sender cannot be authenticated is dropped: otherwise anyone could write into a customer's
 * conversation by forging their address. Auto-replies are dropped too: an agent answering an
 * out-of-office that answers the agent is a loop that spends tokens until someone notices.
 */

/** A header as it stands in the message, in order (the first is the topmost). */
export interface HeaderLine {
  /** Lower-case name. */
  readonly key: string;
  /** `Name: value` as written, possibly folded. */
  readonly line: string;
}

export type VerdictStatus = 'PASS' | 'FAIL' | 'GRAY' | 'PROCESSING_FAILED';

/** SES's verdicts on one message, from the headers SES adds above the message's own. */
export interface SesVerdicts {
  readonly spam?: VerdictStatus | undefined;
  readonly virus?: VerdictStatus | undefined;
  /** `Authentication-Results: amazonses.com; spf=…; dkim=…; dmarc=…` (lower-case results). */
  readonly spf?: string | undefined;
  readonly dkim?: string | undefined;
  readonly dmarc?: string | undefined;
}

export type DropReason = 'spam' | 'virus' | 'unscanned' | 'dmarc' | 'unauthenticated' | 'auto-reply';

export interface Drop {
  readonly reason: DropReason;
  /** For the log: which header said so (never the message's content). */
  readonly detail: string;
}

const STATUSES: readonly VerdictStatus[] = ['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED'];

function headerValue(line: HeaderLine): string {
  const colon = line.line.indexOf(':');
  return line.line
    .slice(colon + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
}

/**
 * The first (topmost) occurrence of a header: SES prepends its trace headers, so a sender who
 * writes `X-SES-Spam-Verdict: PASS` into their own message only adds a lower, ignored copy.
 */
function first(headers: readonly HeaderLine[], key: string): string | undefined {
  const found = headers.find((header) => header.key === key);
  return found ? headerValue(found) : undefined;
}

function status(value: string | undefined): VerdictStatus | undefined {
  const upper = value?.trim().toUpperCase();
  return STATUSES.find((candidate) => candidate === upper);
}

export function sesVerdictsOf(headers: readonly HeaderLine[]): SesVerdicts {
  const results = headers
    .filter((header) => header.key === 'authentication-results')
    .map(headerValue)
    .find((value) => /^amazonses\.com\s*;/i.test(value));
  const result = (method: string) =>
    results?.match(new RegExp(`(?:^|;)\\s*${method}=([a-z]+)`, 'i'))?.[1]?.toLowerCase();
  return {
    spam: status(first(headers, 'x-ses-spam-verdict')),
    virus: status(first(headers, 'x-ses-virus-verdict')),
    spf: result('spf'),
    dkim: result('dkim'),
    dmarc: result('dmarc'),
  };
}

/**
 * Why SES's verdicts refuse the message, if they do. `required` (on AWS, where the receipt rule
 * scans): a message without verdicts is refused, since it was not scanned. Spam that SES only
 * calls GRAY passes (a customer's terse "ok" can score so); a virus verdict must be PASS.
 */
export function verdictDrop(
  verdicts: SesVerdicts,
  options: { readonly required: boolean },
): Drop | undefined {
  const scanned = verdicts.spam !== undefined && verdicts.virus !== undefined;
  if (!scanned) {
    return options.required
      ? { reason: 'unscanned', detail: 'no X-SES-Spam-Verdict / X-SES-Virus-Verdict header' }
      : undefined;
  }
  if (verdicts.virus !== 'PASS') return { reason: 'virus', detail: `virus verdict ${verdicts.virus}` };
  if (verdicts.spam === 'FAIL') return { reason: 'spam', detail: 'spam verdict FAIL' };
  if (verdicts.dmarc === 'fail') return { reason: 'dmarc', detail: 'DMARC fail' };
  if (verdicts.spf !== 'pass' && verdicts.dkim !== 'pass') {
    return {
      reason: 'unauthenticated',
      detail: `neither SPF (${verdicts.spf ?? 'none'}) nor DKIM (${verdicts.dkim ?? 'none'}) passed`,
    };
  }
  return undefined;
}

/**
 * Why a message is an automatic one (RFC 3834 `Auto-Submitted`, the older `Precedence` and
 * `X-Autoreply` conventions, bounces with an empty Return-Path or from the mailer daemon).
 */
export function autoReplyDrop(headers: readonly HeaderLine[], fromAddress: string): Drop | undefined {
  const autoSubmitted = first(headers, 'auto-submitted')?.toLowerCase();
  if (autoSubmitted && !autoSubmitted.startsWith('no')) {
    return { reason: 'auto-reply', detail: `Auto-Submitted: ${autoSubmitted.slice(0, 40)}` };
  }
  const precedence = first(headers, 'precedence')?.toLowerCase();
  if (precedence && /^(?:bulk|junk|list|auto_reply)\b/.test(precedence)) {
    return { reason: 'auto-reply', detail: `Precedence: ${precedence.slice(0, 40)}` };
  }
  if (headers.some((header) => header.key === 'x-autoreply' || header.key === 'x-autorespond')) {
    return { reason: 'auto-reply', detail: 'X-Autoreply header' };
  }
  if (first(headers, 'return-path') === '<>') return { reason: 'auto-reply', detail: 'empty Return-Path' };
  if (/^(?:mailer-daemon|postmaster)@/i.test(fromAddress)) {
    return { reason: 'auto-reply', detail: 'sent by the mail system' };
  }
  return undefined;
}
