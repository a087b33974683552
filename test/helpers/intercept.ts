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

/** `action` once, at the first call that `matches`: just before it is sent, or just after its answer. */
function onceAt<C extends { send: unknown }>(
  client: C,
  when: 'before' | 'after',
  matches: (command: unknown) => boolean,
  action: () => Promise<unknown>
): C {
  let done = false
  return intercept(client, async (command, send) => {
    const now = !done && matches(command)
    if (now) done = true
    if (now && when === 'before') await action()
    const answer = await send(command)
    if (now && when === 'after') await action()
    return answer
  })
}

/** A client whose first call that `matches` runs `action` once. */
type OnFirst = <C extends { send: unknown }>(
  client: C,
  matches: (command: unknown) => boolean,
  action: () => Promise<unknown>
) => C

/** `action` once, just before the first call that `matches`. */
export const beforeFirst: OnFirst = (client, matches, action) =>
  onceAt(client, 'before', matches, action)

/** `action` once, just after the first call that `matches` was answered. */
export const afterFirst: OnFirst = (client, matches, action) =>
  onceAt(client, 'after', matches, action)

/** The SSM client, running `action` once, just before the first SendCommand. */
export function onFirstSend<C extends { send: unknown }>(
  ssm: C,
  action: () => Promise<unknown>
): C {
  return beforeFirst(ssm, (command) => command instanceof SendCommandCommand, action)
}
