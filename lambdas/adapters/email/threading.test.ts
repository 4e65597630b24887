import { messageIdsIn, replyHeaders, replySubject, threadOf } from './threading';

describe('messageIdsIn', () => {
  it('reads the msg-ids of folded and repeated header values, each once, in order', () => {
    expect(messageIdsIn('<a@x>\r\n <b@x>  <a@x>')).toEqual(['<a@x>', '<b@x>']);
    expect(messageIdsIn(['<a@x>', '<c@y> <b@x>'])).toEqual(['<a@x>', '<c@y>', '<b@x>']);
    expect(messageIdsIn(undefined)).toEqual([]);
  });

  it('ignores what is not a msg-id (comments, bare words, ids with spaces)', () => {
    expect(messageIdsIn('(comment) garbage <has space@x> <ok@x>')).toEqual(['<ok@x>']);
  });
});

describe('threadOf', () => {
  it('starts a thread with a first message', () => {
    expect(threadOf({ messageId: '<first@mail.example>' })).toEqual({
      messageId: '<first@mail.example>',
      references: [],
      threadId: '<first@mail.example>',
    });
  });

  it('keeps the root of the References chain as the thread across replies', () => {
    const customerFirst = threadOf({ messageId: '<c1@gmail.example>' });
    // SES overrides the Message-ID of the agent's reply with its own.
    const agentReplyId = '<0100018f-aaaa@email.amazonses.com>';
    const agentReply = replyHeaders(customerFirst);
    const customerSecond = threadOf({
      messageId: '<c2@gmail.example>',
      inReplyTo: agentReplyId,
      references: `${agentReply.references} ${agentReplyId}`,
    });
    expect(customerSecond.threadId).toBe(customerFirst.threadId);
    expect(customerSecond.references).toEqual(['<c1@gmail.example>', agentReplyId]);
  });

  it('continues a thread from In-Reply-To alone when a client sends no References', () => {
    const thread = threadOf({ messageId: '<c2@x>', inReplyTo: '<a1@x>' });
    expect(thread).toEqual({ messageId: '<c2@x>', references: ['<a1@x>'], threadId: '<a1@x>' });
  });

  it('refuses a message without an id (the caller supplies one)', () => {
    expect(() => threadOf({ messageId: 'no brackets' })).toThrow('Message-ID');
  });
});

describe('replyHeaders', () => {
  it('answers the message and extends its chain', () => {
    expect(replyHeaders({ messageId: '<c2@x>', references: ['<c1@x>', '<a1@x>'] })).toEqual({
      inReplyTo: '<c2@x>',
      references: '<c1@x> <a1@x> <c2@x>',
    });
  });

  it('keeps a long chain within the SES header limit: the root and the latest ids', () => {
    const chain = Array.from({ length: 60 }, (_, index) => `<message-${index}-0123456789@mail.example>`);
    const { references } = replyHeaders({ messageId: '<last@mail.example>', references: chain });
    expect(references.length).toBeLessThanOrEqual(980);
    const ids = references.split(' ');
    expect(ids[0]).toBe(chain[0]);
    expect(ids.at(-1)).toBe('<last@mail.example>');
    expect(ids.at(-2)).toBe(chain.at(-1));
  });
});

describe('replySubject', () => {
  it.each([
    ['Booking on Thursday', 'Re: Booking on Thursday'],
    ['Re: Booking', 'Re: Booking'],
    ['RE: Booking', 'RE: Booking'],
    ['Aw: Termin', 'Aw: Termin'],
    ['  Line\r\n folded ', 'Re: Line  folded'],
    ['', 'Re: your message'],
  ])('%j → %j', (subject, expected) => {
    expect(replySubject(subject)).toBe(expected);
  });

  it('has a subject for a message that had none', () => {
    expect(replySubject(undefined)).toBe('Re: your message');
  });
});
