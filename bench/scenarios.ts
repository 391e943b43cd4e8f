// Scenarios the bench clients run, in a module of their own so that worker
// threads (`workers`) can import them; they import chaperon by its package name.
import { scenario } from 'chaperon'

/** One GET of the base URL per iteration. */
export const get = scenario('get', async (s) => {
  await s.get('/')
})
