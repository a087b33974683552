/**
 * The lock's SSM parameter, one call each: an atomic create (PutParameter without Overwrite),
 * a read, an overwrite by the holder (heartbeat and record) and a delete. Intelligent-Tiering
 * lets a value grow past the standard tier's 4 KB to the advanced tier's 8 KB when a record
 * needs it; the lock is deleted at the end, so the advanced tier is paid for only meanwhile.
 */
import {
  DeleteParameterCommand,
  GetParameterCommand,
  PutParameterCommand,
  type SSMClient
} from '@aws-sdk/client-ssm'
import { aws, awsErrorCode, wrapAwsError } from '../errors.js'
import { type LockHolder, parseHolder } from './holder.js'

/** The largest value SSM takes (the advanced tier); a larger record cannot be written. */
export const MAX_LOCK_VALUE = 8192

const IAM_HINT =
  'the deploy lock is an SSM parameter under /ebs-autoscale/lock/: the role needs ssm:PutParameter, ssm:GetParameter and ssm:DeleteParameter there (examples/iam)'

/** Creates the lock; false when the parameter exists (held, or this run's own lost create). */
export async function tryCreate(
  ssm: SSMClient,
  name: string,
  holder: LockHolder
): Promise<boolean> {
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: JSON.stringify(holder),
        Type: 'String',
        Tier: 'Intelligent-Tiering',
        Overwrite: false,
        Description: `ebs-autoscale deploy lock, held by ${holder.runUrl || holder.runId}`.slice(
          0,
          1024
        )
      })
    )
    return true
  } catch (err) {
    if (awsErrorCode(err) === 'ParameterAlreadyExists') return false
    throw wrapAwsError('PutParameter', err, IAM_HINT)
  }
}

/** Rewrites the lock's value; only its holder calls this, after reading it still holds it. */
export async function overwrite(ssm: SSMClient, name: string, holder: LockHolder): Promise<void> {
  const value = JSON.stringify(holder)
  await aws(
    'PutParameter',
    ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: value,
        Type: 'String',
        Tier: 'Intelligent-Tiering',
        Overwrite: true
      })
    )
  )
}

/** The holder; `null` when there is no lock any more; `undefined` when its value is unreadable. */
export async function readHolder(
  ssm: SSMClient,
  name: string
): Promise<LockHolder | null | undefined> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }))
    return parseHolder(out.Parameter?.Value)
  } catch (err) {
    if (awsErrorCode(err) === 'ParameterNotFound') return null
    throw wrapAwsError('GetParameter', err)
  }
}

export async function deleteLock(ssm: SSMClient, name: string): Promise<void> {
  try {
    await aws('DeleteParameter', ssm.send(new DeleteParameterCommand({ Name: name })))
  } catch (err) {
    if (awsErrorCode(err) !== 'ParameterNotFound') throw err
  }
}
