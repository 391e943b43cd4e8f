/** True when `CI` is set to anything but '', '0' or 'false': servers and browsers a test needs must then be there. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env['CI']?.trim().toLowerCase()
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false'
}
