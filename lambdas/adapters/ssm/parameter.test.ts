import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { readOptionalParameter } from './parameter';

describe('an SSM parameter that may not exist yet', () => {
  const ssm = mockClient(SSMClient);
  beforeEach(() => ssm.reset());
  const NAME = '/agent-platform/dev/console-url';

  it('is its value when it exists', async () => {
    ssm
      .on(GetParameterCommand, { Name: NAME })
      .resolves({ Parameter: { Value: 'https://d1.cloudfront.net' } });
    expect(await readOptionalParameter(NAME, 'eu-west-1', new SSMClient({}))).toBe(
      'https://d1.cloudfront.net',
    );
  });

  it('is undefined for ParameterNotFound, and any other failure is thrown', async () => {
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    expect(await readOptionalParameter(NAME, 'eu-west-1', new SSMClient({}))).toBeUndefined();
    ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(readOptionalParameter(NAME, 'eu-west-1', new SSMClient({}))).rejects.toThrow('denied');
  });
});
