import { Chalk } from 'chalk'

/** Wraps text in one terminal style, or returns it unchanged when colours are off. */
export type Style = (text: string) => string

/** The few styles the terminal reporters use. Renderers get one of these and never look at the environment. */
export interface Palette {
  readonly green: Style
  readonly red: Style
  readonly yellow: Style
  readonly dim: Style
  readonly bold: Style
  readonly cyan: Style
}

/**
 * Whether to colour output written to `stream`. `NO_COLOR` (non-empty) wins over
 * everything, as https://no-color.org asks; `FORCE_COLOR` turns colours on unless
 * it is `0` or `false`, so CI logs that render ANSI can opt in; otherwise only a TTY
 * gets colours.
 */
export function useColors(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  const noColor = env['NO_COLOR']
  if (noColor !== undefined && noColor !== '') return false
  const force = env['FORCE_COLOR']
  if (force !== undefined) return force !== '0' && force !== 'false'
  return stream.isTTY === true
}

/**
 * The styles for `enabled`. Level 1 (16 colours) is all the reporters need and
 * is what every terminal that shows colour at all understands.
 */
export function createPalette(enabled: boolean): Palette {
  const chalk = new Chalk({ level: enabled ? 1 : 0 })
  // Wrapped so each style takes exactly one argument: chalk joins extra ones, which `array.map(style)` would pass.
  return Object.freeze({
    green: (text: string) => chalk.green(text),
    red: (text: string) => chalk.red(text),
    yellow: (text: string) => chalk.yellow(text),
    dim: (text: string) => chalk.dim(text),
    bold: (text: string) => chalk.bold(text),
    cyan: (text: string) => chalk.cyan(text),
  })
}
