import { ModelError } from '../runtime/model';
import { withoutInfrastructure } from './errors';

describe('withoutInfrastructure', () => {
  it.each([
    [
      'User: arn:aws:sts::123456789012:assumed-role/Runtime/fn is not authorized',
      'User: [resource] is not authorized',
    ],
    ['on resource: arn:aws-us-gov:ses:us-gov-west-1:1:identity/x.', 'on resource: [resource]'],
    ['POST https://bedrock-runtime.eu-west-1.amazonaws.com/model/x failed', 'POST [url] failed'],
    ['connect ECONNREFUSED 10.0.3.17:11434', 'connect ECONNREFUSED [address]'],
    ['getaddrinfo ENOTFOUND vllm.internal.example:8000', 'getaddrinfo ENOTFOUND [address]'],
    ['account 123456789012 has no access', 'account [account] has no access'],
  ])('takes the infrastructure out of %p', (text, expected) => {
    expect(withoutInfrastructure(text)).toBe(expected);
  });

  it('leaves product words, ids, model ids and phone numbers alone', () => {
    const text =
      'bedrock: anthropic.claude-3-5-sonnet-20240620-v1:0: ThrottlingException: limited; agt_01ARZ3; +441234567890';
    expect(withoutInfrastructure(text)).toBe(text);
  });

  it('guards every model error, whatever an adapter puts in it', () => {
    const error = new ModelError('openai-compatible', 'm: failed at http://10.0.0.5:8000/v1', true);
    expect(error.message).toBe('openai-compatible: m: failed at [url]');
  });
});
