import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The root of the chaperon package, whether it runs compiled or from source. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url))

// chaperon's own code, compiled or (through source maps) original; dropped from user-facing stacks.
const OWN_DIRS = [join(PACKAGE_ROOT, 'dist', sep), join(PACKAGE_ROOT, 'src', sep)]

/** The frames of a stack outside chaperon; Vitest hides its own frames itself. */
export function userFrames(stack: string | undefined): string {
  return (stack ?? '')
    .split('\n')
    .slice(1)
    .filter((line) => !OWN_DIRS.some((dir) => line.includes(dir)))
    .join('\n')
}

/**
 * The file of the first frame of `stack` outside chaperon: the module that
 * called into it. Undefined when no frame names a file (code run by `eval`).
 */
export function callerFile(stack: string | undefined): string | undefined {
  for (const line of userFrames(stack).split('\n')) {
    const m = /(?:\(|at )(file:\/\/\S+?|\/\S+?|[A-Za-z]:\\\S+?):\d+:\d+\)?$/.exec(line.trim())
    if (m !== null) return m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!
  }
  return undefined
}
