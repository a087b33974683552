import { CancelCommandCommand, type SSMClient } from '@aws-sdk/client-ssm'
import { aws } from '../errors.js'

/** Cancels a command on every host, or only on `instanceIds` when given. */
export async function cancelCommand(
  ssm: SSMClient,
  commandId: string,
  instanceIds?: readonly string[]
): Promise<void> {
  const input = { CommandId: commandId, ...(instanceIds ? { InstanceIds: [...instanceIds] } : {}) }
  await aws('CancelCommand', ssm.send(new CancelCommandCommand(input)))
}
