import {
  ExecutionAlreadyExists,
  InvalidToken,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SfnApprovalWorkflow } from './sfn-approval-workflow';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:agent-platform-dev-approval';
const INPUT = {
  tenantId: 'ten_01J0000000000000000000000A',
  approvalId: 'apr_01J0000000000000000000000A',
  actionId: 'act_01J0000000000000000000000A',
};
const sfn = mockClient(SFNClient);
const meta = { $metadata: {} };

beforeEach(() => sfn.reset());

const workflow = () =>
  new SfnApprovalWorkflow(MACHINE, {
    region: 'eu-west-1',
    client: new SFNClient({ region: 'eu-west-1', maxAttempts: 1 }),
  });

describe('SfnApprovalWorkflow', () => {
  it('starts one execution per approval, named after it, with the ids as input', async () => {
    const executionArn = `${MACHINE.replace(':stateMachine:', ':execution:')}:${INPUT.approvalId}`;
    sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date(), ...meta });
    await expect(workflow().start(INPUT)).resolves.toEqual({ executionId: executionArn });
    const [call] = sfn.commandCalls(StartExecutionCommand);
    expect(call?.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      name: INPUT.approvalId,
      input: JSON.stringify(INPUT),
    });
  });

  it('treats a second start of the same approval as started (ExecutionAlreadyExists)', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', ...meta }));
    await expect(workflow().start(INPUT)).resolves.toEqual({
      executionId: `arn:aws:states:eu-west-1:123456789012:execution:agent-platform-dev-approval:${INPUT.approvalId}`,
    });
  });

  it('fails a start that the service refuses otherwise', async () => {
    sfn.on(StartExecutionCommand).rejects(
      new SFNServiceException({
        name: 'StateMachineDoesNotExist',
        $fault: 'client',
        message: 'gone',
        ...meta,
      }),
    );
    await expect(workflow().start(INPUT)).rejects.toThrow('gone');
  });

  it('resumes the waiting task with {outcome} as its output', async () => {
    sfn.on(SendTaskSuccessCommand).resolves(meta);
    await expect(workflow().resume('token-1', { outcome: 'approved' })).resolves.toBe(true);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'token-1',
      output: '{"outcome":"approved"}',
    });
  });

  it.each([
    ['TaskTimedOut', () => new TaskTimedOut({ message: 'timed out', ...meta })],
    ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: 'no such task', ...meta })],
    ['InvalidToken', () => new InvalidToken({ message: 'bad token', ...meta })],
  ])('answers false when the token is no longer waited on (%s)', async (_, error) => {
    sfn.on(SendTaskSuccessCommand).rejects(error());
    sfn.on(SendTaskHeartbeatCommand).rejects(error());
    await expect(workflow().resume('token-1', { outcome: 'rejected' })).resolves.toBe(false);
    await expect(workflow().heartbeat('token-1')).resolves.toBe(false);
  });

  it('sends heartbeats, and lets other failures through', async () => {
    sfn.on(SendTaskHeartbeatCommand).resolvesOnce(meta).rejectsOnce(new Error('throttled'));
    const port = workflow();
    await expect(port.heartbeat('token-1')).resolves.toBe(true);
    await expect(port.heartbeat('token-1')).rejects.toThrow('throttled');
    expect(sfn.commandCalls(SendTaskHeartbeatCommand)[0]?.args[0].input).toEqual({ taskToken: 'token-1' });
  });

  it('builds its client once, on first use', async () => {
    sfn.on(SendTaskHeartbeatCommand).resolves(meta);
    const port = new SfnApprovalWorkflow(MACHINE, { region: 'eu-west-1' });
    expect((port as unknown as { client?: SFNClient }).client).toBeUndefined();
    await port.heartbeat('a');
    const first = (port as unknown as { client: SFNClient }).client;
    await port.heartbeat('b');
    expect((port as unknown as { client: SFNClient }).client).toBe(first);
    expect(await first.config.maxAttempts()).toBe(4);
  });
});
