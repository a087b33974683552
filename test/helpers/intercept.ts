import { SendCommandCommand } from '@aws-sdk/client-ssm'

/**
 * A client whose every `send` goes through `around`, which calls `send` (the real one) when it
 * chooses: to change the world before or after a call, record it, or fail it as AWS might.
 */
export type Send = (command: unknown) => Promise<unknown>

export function intercept<C extends { send: unknown }>(
  client: C,
  around: (command: unknown, send: Send) => Promise<unknown>
): C {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown
      const send: Send = (command) => (target.send as Send).call(target, command)
      return (command: unknown) => around(command, send)
    }
  })
}

/** `action` once, just before the first call that `matches`. */
export function beforeFirst<C extends { send: unknown }>(
  client: C,
  matches: (command: unknown) => boolean,
  action: () => Promise<unknown>
): C {
  let done = false
  return intercept(client, async (command, send) => {
    if (!done && matches(command)) {
      done = true
      await action()
    }
    return send(command)
  })
}

/** `action` once, just after the first call that `matches` was answered. */
export function afterFirst<C extends { send: unknown }>(
  client: C,
  matches: (command: unknown) => boolean,
  action: () => Promise<unknown>
): C {
  let done = false
  return intercept(client, async (command, send) => {
    const now = !done && matches(command)
    if (now) done = true
    const answer = await send(command)
    if (now) await action()
    return answer
  })
}

/** The SSM client, running `action` once, just before the first SendCommand. */
export function onFirstSend<C extends { send: unknown }>(
  ssm: C,
  action: () => Promise<unknown>
): C {
  return beforeFirst(ssm, (command) => command instanceof SendCommandCommand, action)
}
