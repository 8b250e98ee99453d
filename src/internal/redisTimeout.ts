/** A Redis command that got no answer in time. */
class CommandTimeout extends Error {}

/**
 * `promise`, or a `CommandTimeout` once Redis has had `millis` to answer. A timeout measures
 * Redis, not this process's event loop, which a burst of work can hold past the timer:
 *
 * - The timer starts once the command is written. node-redis writes in a `setImmediate` queued
 *   when the command is sent; the one that starts the timer is queued after it.
 * - When the timer fires, the decision waits for one more `setImmediate`: the poll phase between
 *   the timers and the immediates reads every reply already in the socket, so an answer that came
 *   while the loop was busy settles the command instead of timing it out.
 *
 * A paused or slow server still times out: after `millis` (plus at most one turn of the loop)
 * nothing has come. A late answer is still read (and dropped) by node-redis, so the connection
 * stays in step. One timer per command, no fiber.
 */
export const within = <A>(promise: Promise<A>, millis: number): Promise<A> =>
  new Promise((resolve, reject) => {
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const decide = () => {
      if (settled) return
      settled = true
      reject(new CommandTimeout(`no answer from redis within ${millis} ms`))
    }
    const fire = () => void setImmediate(decide)
    const arm = setImmediate(() => {
      if (!settled) timer = setTimeout(fire, millis)
    })
    const done = () => {
      settled = true
      clearImmediate(arm)
      if (timer !== undefined) clearTimeout(timer)
    }
    promise.then((value) => {
      if (settled) return
      done()
      resolve(value)
    }, (error) => {
      if (settled) return
      done()
      reject(error)
    })
  })
