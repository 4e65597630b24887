import { stripQuotedHistory } from './quoted-history';

const crlf = (text: string) => text.replace(/\n/g, '\r\n');

describe('stripQuotedHistory', () => {
  it('cuts a Gmail reply at its attribution, wrapped over two lines, and the > quote below it', () => {
    const body = crlf(
      [
        'Yes, Thursday at 10 works for me.',
        '',
        'On Tue, Dec 1, 2026 at 10:00 AM Acme Dental <help@acme-dental.example>',
        'wrote:',
        '',
        '> Hello Jane, we have Thursday 10:00 or Friday 14:00.',
        '> Which suits you?',
        '>',
      ].join('\n'),
    );
    expect(stripQuotedHistory(body)).toBe('Yes, Thursday at 10 works for me.');
  });

  it('cuts an Apple Mail reply ("On 1 Dec 2026, at 10:00, … wrote:") and its "Sent from my iPhone"', () => {
    const body = [
      'Perfect, see you then.',
      '',
      'Sent from my iPhone',
      '',
      'On 1 Dec 2026, at 10:00, Acme Dental <help@acme-dental.example> wrote:',
      '',
      '> Your booking is confirmed.',
    ].join('\n');
    expect(stripQuotedHistory(body)).toBe('Perfect, see you then.');
  });

  it('cuts an Outlook reply at its underscore separator and From:/Sent: header block', () => {
    const body = crlf(
      [
        'Could we move it to 11?',
        '',
        'Get Outlook for iOS<https://aka.ms/o0ukef>',
        '________________________________',
        'From: Acme Dental <help@acme-dental.example>',
        'Sent: Tuesday, December 1, 2026 10:00 AM',
        'To: Jane Doe <jane@example.com>',
        'Subject: Your booking',
        '',
        'Your booking is confirmed.',
      ].join('\n'),
    );
    expect(stripQuotedHistory(body)).toBe('Could we move it to 11?');
  });

  it('cuts at an Outlook header block even without a separator line, and at -----Original Message-----', () => {
    const headerOnly = ['Thanks!', '', 'From: Acme <help@acme.example>', 'Sent: Tuesday', 'Hello'].join('\n');
    expect(stripQuotedHistory(headerOnly)).toBe('Thanks!');
    const original = ['Thanks!', '-----Original Message-----', 'From: Acme', 'Hello'].join('\n');
    expect(stripQuotedHistory(original)).toBe('Thanks!');
  });

  it('cuts the signature at the RFC 3676 delimiter', () => {
    const body = ['Do you open on Saturdays?', '', '-- ', 'Jane Doe', 'Head of Things, Example Ltd'].join(
      '\n',
    );
    expect(stripQuotedHistory(body)).toBe('Do you open on Saturdays?');
  });

  it('keeps the customer’s own lines of an inline (interleaved) reply and drops the quoted ones', () => {
    const body = ['> Which day suits you?', 'Thursday.', '> And which time?', '10:00 please.'].join('\n');
    expect(stripQuotedHistory(body)).toBe('Thursday.\n10:00 please.');
  });

  it('recognises the French and German attribution lines', () => {
    expect(
      stripQuotedHistory('Merci.\n\nLe mar. 1 déc. 2026 à 10:00, Acme <a@b.c> a écrit :\n> Bonjour'),
    ).toBe('Merci.');
    expect(
      stripQuotedHistory('Danke.\n\nAm Di., 1. Dez. 2026 um 10:00 Uhr schrieb Acme <a@b.c>:\n> Hallo'),
    ).toBe('Danke.');
  });

  it('leaves text that only looks like an attribution alone', () => {
    const body = 'On Thursday I would like to come in.\nOn second thought, make it Friday.';
    expect(stripQuotedHistory(body)).toBe(body);
  });

  it('keeps a message that is nothing but quotation rather than sending nothing', () => {
    const body = '> Your booking is confirmed.\n> See you Thursday.';
    expect(stripQuotedHistory(body)).toBe(body);
  });

  it('collapses the blank lines left behind and trims the ends', () => {
    expect(stripQuotedHistory('\n\nHello\n\n\n\nthere   \n\n')).toBe('Hello\n\nthere');
  });
});
