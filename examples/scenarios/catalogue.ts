// Scenarios shared by load tests that run on worker threads: they live in a
// module of their own, exported, so every worker can import them (docs/workers.md).
import { scenario } from 'chaperon'

/** A visitor opens the catalogue and one product. */
export const browse = scenario('browse', async (s) => {
  const list = await s.get('/products', { check: { 'is 200': (r) => r.status === 200 } })
  const products = list.json<Array<{ id: number }>>()
  await s.get(`/products/${products[(s.vu + s.iteration) % products.length]!.id}`, { name: 'GET /products/:id' })
})
