// The storefront's scenarios, shared by its load test (storefront.load.ts) and
// its dry run (storefront.dry.load.ts); the dry run's msw handlers are in
// storefront.mocks.ts, so the real load test does not need msw.
import { scenario } from 'chaperon'

/** A shopper browses the catalogue, looks at one product and puts it in the cart. */
export const shop = scenario('shop', async (s) => {
  const list = await s.get('/products', { check: { 'is 200': (r) => r.status === 200 } })
  const products = list.json<Array<{ id: number }>>()
  const product = products[s.iteration % products.length]!
  await s.get(`/products/${product.id}`, { name: 'GET /products/:id' })
  await s.delay({ min: 10, max: 30 })
  await s.post('/cart', { json: { id: product.id }, expect: 201 })
})

/** A buyer puts a product in the cart; run on a schedule, whatever the service's speed (an open model). */
export const buy = scenario('buy', async (s) => {
  await s.post('/cart', { json: { id: 1 + (s.iteration % 10) }, expect: 201, name: 'POST /cart (arrivals)' })
})
