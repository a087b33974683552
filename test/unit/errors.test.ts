import { describe, expect, it } from '@jest/globals'
import {
  ActionError,
  AwsApiError,
  InputError,
  aws,
  awsErrorCode,
  errorMessage,
  isThrottling,
  wrapAwsError
} from '../../src/errors.js'

/** An error shaped like the ones AWS SDK v3 throws (ServiceException). */
function sdkError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'req-1', attempts: 1, totalRetryDelay: 0 }
  })
}

describe('wrapAwsError', () => {
  it('names the API, the error code and the message', () => {
    const err = wrapAwsError(
      'DescribeInstances',
      sdkError('InvalidParameterValue', 'Value (foo) for parameter filter is invalid.')
    )
    expect(err).toBeInstanceOf(AwsApiError)
    expect(err.message).toBe(
      'DescribeInstances failed: InvalidParameterValue: Value (foo) for parameter filter is invalid.'
    )
    expect(err).toMatchObject({
      api: 'DescribeInstances',
      code: 'InvalidParameterValue',
      awsMessage: 'Value (foo) for parameter filter is invalid.',
      httpStatus: 400
    })
  })

  it('adds the HTTP status of server errors only', () => {
    expect(wrapAwsError('CreateSnapshot', sdkError('InternalError', 'boom', 503)).message).toBe(
      'CreateSnapshot failed: InternalError: boom (HTTP 503)'
    )
  })

  it('hints at configure-aws-credentials for expired tokens', () => {
    expect(
      wrapAwsError('DescribeInstances', sdkError('ExpiredToken', 'The security token expired.'))
        .message
    ).toBe(
      'DescribeInstances failed: ExpiredToken: The security token expired. Hint: the credentials have expired; re-run aws-actions/configure-aws-credentials or raise its role-duration-seconds'
    )
  })

  it('hints at configure-aws-credentials when no credentials were found', () => {
    // What @smithy/property-provider throws when the default chain finds nothing.
    const err = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
      tryNextLink: false
    })
    expect(wrapAwsError('DescribeAutoScalingGroups', err).message).toBe(
      'DescribeAutoScalingGroups failed: CredentialsProviderError: Could not load credentials from any providers. Hint: no AWS credentials were found; run aws-actions/configure-aws-credentials before this step'
    )
  })

  it('points at the least-privilege policies for UnauthorizedOperation', () => {
    const message = wrapAwsError(
      'CreateSnapshot',
      sdkError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403)
    ).message
    expect(message).toBe(
      "CreateSnapshot failed: UnauthorizedOperation: You are not authorized to perform this operation. Hint: the role is not allowed to make this call; compare its policy with examples/iam/ (this project's least-privilege policies)"
    )
  })

  it('explains InvalidInstanceId as a host that is not SSM-managed', () => {
    expect(
      wrapAwsError('SendCommand', sdkError('InvalidInstanceId', 'Instances not in a valid state'))
        .message
    ).toBe(
      'SendCommand failed: InvalidInstanceId: Instances not in a valid state. Hint: the instance is not SSM-managed or its agent is offline (check the SSM agent and the instance profile)'
    )
  })

  it('prefers a hint given by the caller', () => {
    expect(
      wrapAwsError('SendCommand', sdkError('InvalidInstanceId', 'x'), 'run it on another host')
        .message
    ).toBe('SendCommand failed: InvalidInstanceId: x. Hint: run it on another host')
  })

  it('reads the code from Code when the SDK puts it there', () => {
    expect(
      wrapAwsError('DescribeInstances', { Code: 'AuthFailure', message: 'nope' }).message
    ).toBe(
      'DescribeInstances failed: AuthFailure: nope. Hint: the credentials were rejected; check the account and the region'
    )
  })

  it('copes with an empty message, a string and null', () => {
    expect(
      wrapAwsError('GetCommandInvocation', sdkError('InvocationDoesNotExist', '  ')).message
    ).toBe('GetCommandInvocation failed: InvocationDoesNotExist: no message')
    expect(wrapAwsError('DescribeInstances', 'socket hang up').message).toBe(
      'DescribeInstances failed: Unknown: socket hang up'
    )
    expect(wrapAwsError('DescribeInstances', null).message).toBe(
      'DescribeInstances failed: Unknown: null'
    )
  })

  it('leaves our own errors alone', () => {
    const input = new InputError('tags', 'bad')
    const action = new ActionError('a host failed')
    const api = new AwsApiError('SendCommand', 'X', 'y')
    expect(wrapAwsError('DescribeInstances', input)).toBe(input)
    expect(wrapAwsError('DescribeInstances', action)).toBe(action)
    expect(wrapAwsError('DescribeInstances', api)).toBe(api)
  })
})

describe('aws()', () => {
  it('returns what the call returns', async () => {
    await expect(aws('DescribeInstances', Promise.resolve({ Reservations: [] }))).resolves.toEqual({
      Reservations: []
    })
  })

  it('wraps a rejection with the API name', async () => {
    await expect(
      aws('DescribeInstances', Promise.reject(sdkError('RequestLimitExceeded', 'Rate exceeded')))
    ).rejects.toThrow(
      'DescribeInstances failed: RequestLimitExceeded: Rate exceeded. Hint: AWS throttled the calls beyond the retries; raise max-attempts'
    )
  })
})

describe('error codes', () => {
  it('reads the code of SDK errors and of our wrapped errors', () => {
    expect(awsErrorCode(sdkError('ThrottlingException', 'slow down'))).toBe('ThrottlingException')
    expect(awsErrorCode(new AwsApiError('SendCommand', 'InvalidDocument', 'x'))).toBe(
      'InvalidDocument'
    )
    expect(awsErrorCode('text')).toBeUndefined()
    expect(awsErrorCode(undefined)).toBeUndefined()
  })

  it('recognises throttling, wrapped or not', () => {
    expect(isThrottling(sdkError('ThrottlingException', 'x'))).toBe(true)
    expect(isThrottling(sdkError('RequestLimitExceeded', 'x'))).toBe(true)
    expect(isThrottling(new AwsApiError('DescribeSnapshots', 'Throttling', 'x'))).toBe(true)
    expect(isThrottling(sdkError('InvalidInstanceId', 'x'))).toBe(false)
    expect(isThrottling(new Error('plain'))).toBe(false)
  })
})

describe('errorMessage', () => {
  it('gives the message of errors, the text of strings, JSON of the rest', () => {
    expect(errorMessage(new InputError('tags', 'is empty.'))).toBe('Input "tags": is empty.')
    expect(errorMessage(new ActionError('2 of 5 hosts failed'))).toBe('2 of 5 hosts failed')
    expect(errorMessage('plain text')).toBe('plain text')
    expect(errorMessage({ code: 42 })).toBe('{"code":42}')
    expect(errorMessage(undefined)).toBe('undefined')
    expect(errorMessage(new TypeError(''))).toBe('TypeError')
  })

  it('falls back to String() when JSON cannot represent the value', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(errorMessage(cyclic)).toBe('[object Object]')
    expect(errorMessage(10n)).toBe('10')
  })
})
