/**
 * Errors that reach the user. Every message says what was asked, what AWS answered
 * (API name, error code, message) and, where one helps, what to do next.
 */

/**
 * A bad input value, named by the input: the input parser's errors, at the edge (the core
 * raises SettingError). Raised before any AWS call that changes anything.
 */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string
  ) {
    super(`Input "${input}": ${message}`)
    this.name = 'InputError'
  }
}

/**
 * Another setting named inside a SettingError's detail (`leave ${setting(...)} empty`).
 * Each front end renders it by its own name for that setting (an action's input, a command
 * line's flag). Control characters delimit it: no value in a message carries one (values are
 * quoted with JSON.stringify, which escapes them, and AWS names hold none).
 */
export const setting = (field: string): string => `\u0001${field}\u0002`

// eslint-disable-next-line no-control-regex -- the control characters are the point (above)
const SETTING_TOKEN = /\u0001([A-Za-z0-9]+)\u0002/g

/** `detail` with every `setting(...)` token replaced by `nameOf(field)`. */
export function nameSettings(detail: string, nameOf: (field: string) => string): string {
  return detail.replace(SETTING_TOKEN, (_, field: string) => nameOf(field))
}

/**
 * A setting the core refuses, named by the core's own field (`groups`, `launchTemplate`,
 * `sourceVersion`...), raised before any AWS call that changes anything. A front end maps the
 * field and the settings its detail names to its own names (the actions: `Input "asg-name":
 * ...`); the plain message uses the fields themselves.
 */
export class SettingError extends Error {
  constructor(
    readonly field: string,
    readonly detail: string
  ) {
    super(`Setting "${field}": ${nameSettings(detail, (f) => f)}`)
    this.name = 'SettingError'
  }
}

/** A failed AWS API call, with the service's error code and a hint where one helps. */
export class AwsApiError extends Error {
  constructor(
    readonly api: string,
    readonly code: string,
    readonly awsMessage: string,
    readonly hint?: string,
    readonly httpStatus?: number
  ) {
    super(
      `${api} failed: ${code}: ${hint ? awsMessage.replace(/\.+$/, '') : awsMessage}` +
        (httpStatus && httpStatus >= 500 ? ` (HTTP ${httpStatus})` : '') +
        (hint ? `. Hint: ${hint}` : '')
    )
    this.name = 'AwsApiError'
  }
}

/** Any other failure the action detected itself (a host failed, a wait timed out...). */
export class ActionError extends Error {
  override name = 'ActionError'
}

const HINTS: Record<string, string> = {
  CredentialsProviderError:
    'no AWS credentials were found; run aws-actions/configure-aws-credentials before this step',
  ExpiredToken:
    'the credentials have expired; re-run aws-actions/configure-aws-credentials or raise its role-duration-seconds',
  ExpiredTokenException:
    'the credentials have expired; re-run aws-actions/configure-aws-credentials or raise its role-duration-seconds',
  RequestExpired: "the request's signature expired; check the runner's clock",
  InvalidClientTokenId: 'the access key is not valid in this account or region',
  UnrecognizedClientException: 'the access key is not valid in this account or region',
  AuthFailure: 'the credentials were rejected; check the account and the region',
  UnauthorizedOperation:
    "the role is not allowed to make this call; compare its policy with examples/iam/ (this project's least-privilege policies)",
  AccessDenied:
    "the role is not allowed to make this call; compare its policy with examples/iam/ (this project's least-privilege policies)",
  AccessDeniedException:
    "the role is not allowed to make this call; compare its policy with examples/iam/ (this project's least-privilege policies)",
  RequestLimitExceeded: 'AWS throttled the calls beyond the retries; raise max-attempts',
  ThrottlingException: 'AWS throttled the calls beyond the retries; raise max-attempts',
  Throttling: 'AWS throttled the calls beyond the retries; raise max-attempts',
  InvalidInstanceId:
    'the instance is not SSM-managed or its agent is offline (check the SSM agent and the instance profile)',
  InvalidDocument: 'the SSM document does not exist in this region, or the role cannot read it',
  'InvalidLaunchTemplateName.NotFoundException':
    'no launch template has that name in this region (check launch-template and aws-region)',
  'InvalidLaunchTemplateId.NotFound':
    'no launch template has that id in this region (check launch-template and aws-region)',
  'InvalidLaunchTemplateId.Malformed': 'a launch template id looks like lt-0123456789abcdef0'
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown'
])

interface SdkErrorShape {
  name?: string
  Code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
}

/** The AWS error code of an SDK error (`err.name` in SDK v3), or undefined. */
export function awsErrorCode(err: unknown): string | undefined {
  if (err instanceof AwsApiError) return err.code
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as SdkErrorShape
  return e.Code ?? e.name
}

export function isThrottling(err: unknown): boolean {
  const code = awsErrorCode(err)
  return code !== undefined && THROTTLING.has(code)
}

/** Wraps an SDK error with the API that failed and a hint. Leaves our own errors alone. */
export function wrapAwsError(api: string, err: unknown, hint?: string): Error {
  if (
    err instanceof AwsApiError ||
    err instanceof InputError ||
    err instanceof SettingError ||
    err instanceof ActionError
  ) {
    return err
  }
  if (typeof err !== 'object' || err === null) return new AwsApiError(api, 'Unknown', String(err))
  const e = err as SdkErrorShape
  const code = e.Code ?? e.name ?? 'Unknown'
  const message = (e.message ?? '').trim() || 'no message'
  return new AwsApiError(api, code, message, hint ?? HINTS[code], e.$metadata?.httpStatusCode)
}

/** Awaits one AWS call, naming the API in any error: `await aws('DescribeInstances', ec2.send(...))`. */
export async function aws<T>(api: string, call: Promise<T>, hint?: string): Promise<T> {
  try {
    return await call
  } catch (err) {
    throw wrapAwsError(api, err, hint)
  }
}

/** The one way any error becomes text for the user. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  if (typeof err === 'string') return err
  try {
    // JSON.stringify gives undefined (not a string) for undefined, functions and symbols.
    return JSON.stringify(err) ?? String(err)
  } catch {
    return String(err)
  }
}
