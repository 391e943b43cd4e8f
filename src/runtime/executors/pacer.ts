/**
 * Lets the I/O of a thread start arrival-rate iterations on time.
 *
 * Timers run only between the event loop's phases, so a slot that falls due
 * while the loop works through a batch of responses, or the writes of the
 * requests queued in the last turn, waits for the whole batch: milliseconds at
 * a few thousand requests per second. The HTTP client therefore calls
 * {@link pace} after each response and before each request it writes, and an
 * executor with a slot due then starts it in a microtask, which runs before
 * the next socket's callback. The executor's own timer remains the schedule;
 * this only keeps busy turns of the loop from holding it back.
 */
export interface Pacer {
  /** True when a slot is due by now. Called for every request: keep it cheap. */
  due(): boolean
  /** Starts every slot that is due by now. */
  catchUp(): void
}

const active: Pacer[] = []
let queued = false

/** Puts `pacer` on the thread's list until the returned function is called. */
export function addPacer(pacer: Pacer): () => void {
  active.push(pacer)
  return () => {
    const i = active.indexOf(pacer)
    if (i >= 0) active.splice(i, 1)
  }
}

/**
 * Starts, in a microtask, the slots of every pacer that has one due. Safe to
 * call from inside a dispatcher's callbacks: nothing starts synchronously.
 */
export function pace(): void {
  if (queued) return
  for (let i = 0; i < active.length; i++) {
    if (active[i]!.due()) {
      queued = true
      queueMicrotask(catchUpAll)
      return
    }
  }
}

function catchUpAll(): void {
  queued = false
  for (let i = 0; i < active.length; i++) active[i]!.catchUp()
}
