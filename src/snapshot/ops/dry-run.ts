/** EC2's DryRun: asks whether a call would be allowed, without making it. */
import { awsErrorCode, wrapAwsError } from '../../errors.js'

/** Resolves when AWS answers DryRunOperation ("would have succeeded"); throws otherwise. */
export async function checkPermission(api: string, call: Promise<unknown>): Promise<void> {
  try {
    await call
  } catch (err) {
    if (awsErrorCode(err) === 'DryRunOperation') return
    throw wrapAwsError(`${api} (dry run)`, err)
  }
}
