import {
  firstSentences,
  plainSpeech,
  spokenAmount,
  spokenList,
  spokenTime,
  ssmlAsText,
  ssmlOf,
  toSsml,
} from './speech';

describe('speech-shaped replies', () => {
  it('drops markdown: emphasis, headings, code, strike-through, quotes', () => {
    expect(plainSpeech('## Hours\n**Open** _daily_, `9-5`. ~~Closed~~ Sundays.\n> Note: bring ID')).toBe(
      'Hours. Open daily, 9-5. Closed Sundays. Note: bring ID.',
    );
  });

  it('turns a list into one spoken sentence, joined to its lead-in', () => {
    expect(plainSpeech('We offer:\n- cleaning\n- whitening\n- braces')).toBe(
      'We offer: cleaning, whitening and braces.',
    );
    expect(plainSpeech('1. Call us\n2) Pick a time')).toBe('Call us and Pick a time.');
    expect(spokenList(['one'])).toBe('one');
    expect(spokenList(['a;', 'b.'])).toBe('a and b');
  });

  it('says a link as its site, never a path', () => {
    expect(plainSpeech('Book at https://www.shop.example/book?x=1&y=2.')).toBe('Book at shop.example.');
    expect(
      plainSpeech(
        'See [our prices](https://clinic.example/prices) or [https://a.example](https://a.example/x)',
      ),
    ).toBe('See our prices or a.example.');
  });

  it('says currency, clock times and phone numbers the way people say them', () => {
    expect(spokenAmount('$', '1,234.50')).toBe('1,234 dollars and 50 cents');
    expect(spokenAmount('€', '1')).toBe('1 euro');
    expect(spokenAmount('£', '0.05')).toBe('5 pence');
    expect(spokenTime(14, 30)).toBe('2:30 PM');
    expect(spokenTime(0, 0)).toBe('12 AM');
    expect(spokenTime(9, 0, 'a.m.')).toBe('9 AM');
    expect(toSsml('A cleaning is $80.50 or USD 90, at 09:00 or 17:30; call +14155550100.')).toBe(
      '<speak>A cleaning is 80 dollars and 50 cents or 90 dollars, at 9 AM or 5:30 PM; call <say-as interpret-as="telephone">+14155550100</say-as>.</speak>',
    );
  });

  it('is short by default: at most four sentences, cut at a sentence end (not inside 2.5)', () => {
    const long = 'One. Two is 2.5 units! Three? Four. Five. Six.';
    expect(toSsml(long)).toBe('<speak>One. Two is 2.5 units! Three? Four.</speak>');
    expect(firstSentences(long, 2)).toBe('One. Two is 2.5 units!');
    expect(firstSentences(long, 0)).toBe(long);
  });

  it('escapes what the model writes, so no reply can inject SSML', () => {
    const ssml = toSsml('Fish & chips <break time="10s"/> "now"');
    expect(ssml).toBe('<speak>Fish &amp; chips &lt;break time=&quot;10s&quot;/&gt; &quot;now&quot;.</speak>');
    expect(ssmlAsText(ssml)).toBe('Fish & chips <break time="10s"/> "now".');
  });

  it('fixed sentences are wrapped and escaped but never shortened', () => {
    expect(ssmlOf('One. Two. Three. Four. Five & six.')).toBe(
      '<speak>One. Two. Three. Four. Five &amp; six.</speak>',
    );
  });
});
