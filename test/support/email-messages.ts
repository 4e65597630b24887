/**
 * Raw RFC 5322 messages as real clients write them (header order, boundaries, encodings and the
 * way each quotes the previous message), and as SES stores them in the bucket (its trace and
 * verdict headers on top). Lines end in CRLF, as on the wire.
 */

const crlf = (lines: readonly string[]) => `${lines.join('\r\n')}\r\n`;

export const MAILBOX = 'help@acme-dental.example';
/** The Message-ID SES gives the agent's first reply (it overrides any we would set). */
export const AGENT_REPLY_ID =
  '<0100018f2c3e4d5a-6b7c8d9e-1f20-4a3b-9c8d-7e6f5a4b3c2d-000000@email.amazonses.com>';

/** Gmail's reply: multipart/alternative, quoted-printable, the attribution wrapped, a gmail_quote div. */
export const GMAIL_REPLY = crlf([
  'MIME-Version: 1.0',
  'Date: Tue, 1 Dec 2026 10:05:12 +0000',
  `References: <CAF1c1aaa@mail.gmail.com> ${AGENT_REPLY_ID}`,
  `In-Reply-To: ${AGENT_REPLY_ID}`,
  'Message-ID: <CAF2c2bbb+Xy=Z@mail.gmail.com>',
  'Subject: Re: Booking on Thursday',
  'From: Jane Doe <Jane.Doe@gmail.example>',
  'To: Acme Dental <Help@Acme-Dental.example>',
  'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f6"',
  '',
  '--000000000000a1b2c3d4e5f6',
  'Content-Type: text/plain; charset="UTF-8"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Thursday at 10 works for me =E2=80=94 thanks!',
  '',
  'On Tue, Dec 1, 2026 at 10:00=E2=80=AFAM Acme Dental <help@acme-dental.example=',
  '>',
  'wrote:',
  '',
  '> We have Thursday 10:00 or Friday 14:00. Which suits you?',
  '>',
  '',
  '--000000000000a1b2c3d4e5f6',
  'Content-Type: text/html; charset="UTF-8"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<div dir=3D"ltr">Thursday at 10 works for me =E2=80=94 thanks!</div><br><div =',
  'class=3D"gmail_quote"><div dir=3D"ltr" class=3D"gmail_attr">On Tue, Dec 1, 20=',
  '26 at 10:00=E2=80=AFAM Acme Dental &lt;<a href=3D"mailto:help@acme-dental.exa=',
  'mple">help@acme-dental.example</a>&gt; wrote:<br></div><blockquote class=3D"g=',
  'mail_quote" style=3D"margin:0px 0px 0px 0.8ex">We have Thursday 10:00 or Fri=',
  'day 14:00. Which suits you?</blockquote></div>',
  '',
  '--000000000000a1b2c3d4e5f6--',
]);

/** Outlook (Microsoft 365) reply: Thread-Index, the underscore rule and the From/Sent/To block. */
export const OUTLOOK_REPLY = crlf([
  'From: "Smith, John" <John.Smith@contoso.example>',
  'To: "help@acme-dental.example" <help@acme-dental.example>',
  'Subject: RE: Booking on Thursday',
  'Thread-Topic: Booking on Thursday',
  'Thread-Index: AQHbQ1Jx2n0c4Zq5kEeYvW3yK1Zq0g==',
  'Date: Tue, 1 Dec 2026 10:07:45 +0000',
  'Message-ID: <PH0PR11MB5000A1B2C3D4E5F6@PH0PR11MB5000.namprd11.prod.outlook.com>',
  `References: ${AGENT_REPLY_ID}`,
  `In-Reply-To: ${AGENT_REPLY_ID}`,
  'Accept-Language: en-US',
  'Content-Language: en-US',
  'Content-Type: multipart/alternative;',
  '\tboundary="_000_PH0PR11MB5000A1B2C3D4E5F6PH0PR11MB5000namp_"',
  'MIME-Version: 1.0',
  '',
  '--_000_PH0PR11MB5000A1B2C3D4E5F6PH0PR11MB5000namp_',
  'Content-Type: text/plain; charset="us-ascii"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Could we move it to 11 instead?',
  '',
  'John',
  '',
  'Get Outlook for iOS<https://aka.ms/o0ukef>',
  '________________________________',
  'From: Acme Dental <help@acme-dental.example>',
  'Sent: Tuesday, December 1, 2026 10:00 AM',
  'To: Smith, John <John.Smith@contoso.example>',
  'Subject: Booking on Thursday',
  '',
  'We have Thursday 10:00 or Friday 14:00. Which suits you?',
  '',
  '--_000_PH0PR11MB5000A1B2C3D4E5F6PH0PR11MB5000namp_',
  'Content-Type: text/html; charset="us-ascii"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<html><body><div>Could we move it to 11 instead?</div><div>John</div>',
  '<div id=3D"appendonsend"></div><hr style=3D"display:inline-block;width:98%">',
  '<div id=3D"divRplyFwdMsg" dir=3D"ltr"><b>From:</b> Acme Dental &lt;help@acme-dental.example&gt;<br>',
  '<b>Sent:</b> Tuesday, December 1, 2026 10:00 AM</div>',
  '<div>We have Thursday 10:00 or Friday 14:00. Which suits you?</div></body></html>',
  '',
  '--_000_PH0PR11MB5000A1B2C3D4E5F6PH0PR11MB5000namp_--',
]);

/** The same Outlook reply as HTML only (some tenants' customers send no text part). */
export const OUTLOOK_HTML_ONLY = crlf([
  'From: John Smith <john.smith@contoso.example>',
  'To: help@acme-dental.example',
  'Subject: RE: Booking on Thursday',
  'Date: Tue, 1 Dec 2026 10:07:45 +0000',
  'Message-ID: <PH0PR11MB5000FFFF@PH0PR11MB5000.namprd11.prod.outlook.com>',
  'Content-Type: text/html; charset="utf-8"',
  'Content-Transfer-Encoding: base64',
  'MIME-Version: 1.0',
  '',
  Buffer.from(
    '<html><body><div>Could we move it to 11 instead?</div>' +
      '<div id="appendonsend"></div><hr style="display:inline-block;width:98%">' +
      '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Acme Dental &lt;help@acme-dental.example&gt;<br>' +
      '<b>Sent:</b> Tuesday, December 1, 2026 10:00 AM</div>' +
      '<div>We have Thursday 10:00 or Friday 14:00. Which suits you?</div></body></html>',
  ).toString('base64'),
]);

/** Apple Mail on iPhone: the attribution itself quoted with `>`, "Sent from my iPhone", blockquote type=cite. */
export const APPLE_MAIL_REPLY = crlf([
  'Content-Type: multipart/alternative; boundary=Apple-Mail-7D3E1A2B-4C5D-6E7F-8091-A2B3C4D5E6F7',
  'Content-Transfer-Encoding: 7bit',
  'From: =?utf-8?Q?Zo=C3=AB_M=C3=BCller?= <zoe@icloud.example>',
  'Mime-Version: 1.0 (1.0)',
  'Date: Tue, 1 Dec 2026 11:02:03 +0100',
  'Subject: Re: Booking on Thursday',
  'Message-Id: <5C1D2E3F-A4B5-4C6D-8E9F-0A1B2C3D4E5F@icloud.example>',
  `References: <first-zoe@icloud.example> ${AGENT_REPLY_ID}`,
  `In-Reply-To: ${AGENT_REPLY_ID}`,
  'To: help@acme-dental.example',
  'X-Mailer: iPhone Mail (22B91)',
  '',
  '--Apple-Mail-7D3E1A2B-4C5D-6E7F-8091-A2B3C4D5E6F7',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Perfect, see you then. =F0=9F=98=8A',
  '',
  'Sent from my iPhone',
  '',
  '> On 1 Dec 2026, at 10:00, Acme Dental <help@acme-dental.example> wrote:',
  '>=20',
  '> =EF=BB=BFWe have Thursday 10:00 or Friday 14:00. Which suits you?',
  '',
  '--Apple-Mail-7D3E1A2B-4C5D-6E7F-8091-A2B3C4D5E6F7',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  '<html><body dir=3D"auto">Perfect, see you then. =F0=9F=98=8A<br><br><div>Sent from my iPhone</div>',
  '<div><br><blockquote type=3D"cite">On 1 Dec 2026, at 10:00, Acme Dental wrote:<br><br></blockquote></div>',
  '<blockquote type=3D"cite"><div>We have Thursday 10:00 or Friday 14:00.</div></blockquote></body></html>',
  '',
  '--Apple-Mail-7D3E1A2B-4C5D-6E7F-8091-A2B3C4D5E6F7--',
]);

/** A new message with a PDF and a signature logo (inline, multipart/related), Cc'd to a colleague. */
export const WITH_ATTACHMENT = crlf([
  'From: Jane Doe <jane.doe@gmail.example>',
  'To: Someone Else <someone@elsewhere.example>',
  'Cc: help@acme-dental.example',
  'Subject: X-ray from my last visit',
  'Date: Wed, 2 Dec 2026 09:00:00 +0000',
  'Message-ID: <attach-1@mail.gmail.example>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="mixed-boundary"',
  '',
  '--mixed-boundary',
  'Content-Type: multipart/related; boundary="related-boundary"',
  '',
  '--related-boundary',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Here is the X-ray you asked for.</p><p><img src="cid:logo@sig"></p>',
  '--related-boundary',
  'Content-Type: image/png',
  'Content-ID: <logo@sig>',
  'Content-Disposition: inline; filename="logo.png"',
  'Content-Transfer-Encoding: base64',
  '',
  'iVBORw0KGgo=',
  '--related-boundary--',
  '',
  '--mixed-boundary',
  'Content-Type: application/pdf; name="x-ray.pdf"',
  'Content-Disposition: attachment; filename="x-ray.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.7 a small x-ray').toString('base64'),
  '--mixed-boundary--',
]);

/** The headers SES puts above a message it stores in S3 (receipt rule with scanning on). */
export function sesStored(
  message: string,
  verdicts: {
    readonly spam?: string;
    readonly virus?: string;
    readonly spf?: string;
    readonly dkim?: string;
    readonly dmarc?: string;
  } = {},
  recipient = MAILBOX,
): string {
  const { spam = 'PASS', virus = 'PASS', spf = 'pass', dkim = 'pass', dmarc = 'pass' } = verdicts;
  return (
    crlf([
      'Return-Path: <jane.doe@gmail.example>',
      'Received: from mail-ed1-f41.google.com (mail-ed1-f41.google.com [209.85.208.41])',
      ' by inbound-smtp.us-east-1.amazonaws.com with SMTP id 9ui4k2b7j1h0g3f5e6d7c8b9a0',
      ` for ${recipient};`,
      ' Tue, 01 Dec 2026 10:05:13 +0000 (UTC)',
      `X-SES-Spam-Verdict: ${spam}`,
      `X-SES-Virus-Verdict: ${virus}`,
      `Received-SPF: ${spf} (spfCheck: domain of gmail.example designates 209.85.208.41 as permitted sender) client-ip=209.85.208.41;`,
      `Authentication-Results: amazonses.com;`,
      ` spf=${spf} (spfCheck: domain of gmail.example designates 209.85.208.41 as permitted sender) client-ip=209.85.208.41; envelope-from=jane.doe@gmail.example; helo=mail-ed1-f41.google.com;`,
      ` dkim=${dkim} header.i=@gmail.example;`,
      ` dmarc=${dmarc} header.from=gmail.example;`,
      'X-SES-RECEIPT: AEFBQUFBQUFBQUFHdmFaV0xzQ1RBbm9ZZ3V0Qmd2',
      'X-SES-DKIM-SIGNATURE: a=rsa-sha256; q=dns/txt; b=abc; c=relaxed/simple; s=224i4yxa5dv7c2xz3womw6peuasteono; d=amazonses.com; t=1764583513; v=1; bh=abc; h=From:To:Cc:Bcc:Subject:Date:Message-ID:MIME-Version:Content-Type:X-SES-RECEIPT;',
    ]) + message
  );
}

export interface PlainEmail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly messageId: string;
  readonly text: string;
  readonly inReplyTo?: string;
  readonly references?: string;
  /** Extra header lines, e.g. `Auto-Submitted: auto-replied`. */
  readonly headers?: readonly string[];
}

/** A plain-text message, as a simple client sends one. */
export function plainEmail(email: PlainEmail): string {
  return crlf([
    `From: ${email.from}`,
    `To: ${email.to}`,
    `Subject: ${email.subject}`,
    'Date: Tue, 1 Dec 2026 10:00:00 +0000',
    `Message-ID: ${email.messageId}`,
    ...(email.inReplyTo ? [`In-Reply-To: ${email.inReplyTo}`] : []),
    ...(email.references ? [`References: ${email.references}`] : []),
    ...(email.headers ?? []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    email.text,
  ]);
}
