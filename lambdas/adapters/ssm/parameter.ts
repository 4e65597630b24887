import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/** One SSM parameter's value (a plain String parameter). */
export async function readParameter(name: string, region: string): Promise<string> {
  const client = new SSMClient({ region });
  const { Parameter } = await client.send(new GetParameterCommand({ Name: name }));
  if (!Parameter?.Value) throw new Error(`SSM parameter ${name} has no value`);
  return Parameter.Value;
}

/**
 * The same for a parameter that may not exist yet (written by a stack deployed later): undefined
 * for ParameterNotFound; any other failure (throttling, access denied, the network) is thrown.
 */
export async function readOptionalParameter(
  name: string,
  region: string,
  client: Pick<SSMClient, 'send'> = new SSMClient({ region, maxAttempts: 2 }),
): Promise<string | undefined> {
  try {
    const { Parameter } = await client.send(new GetParameterCommand({ Name: name }));
    return Parameter?.Value || undefined;
  } catch (error) {
    if (error instanceof Error && error.name === 'ParameterNotFound') return undefined;
    throw error;
  }
}
