import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/** One SSM parameter's value (a plain String parameter). */
export async function readParameter(name: string, region: string): Promise<string> {
  const client = new SSMClient({ region });
  const { Parameter } = await client.send(new GetParameterCommand({ Name: name }));
  if (!Parameter?.Value) throw new Error(`SSM parameter ${name} has no value`);
  return Parameter.Value;
}
