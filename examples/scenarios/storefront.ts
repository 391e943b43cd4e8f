// The storefront's scenarios, shared by its load test (storefront.load.ts) and
// its dry run (storefront.dry.load.ts), with the msw handlers that stand in for
// the storefront's API in the dry run (docs/dry-run.md).
import { scenario } from 'chaperon'
import { http, HttpResponse } from 'msw'

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

const products = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `Product ${i + 1}`, price: Math.round((4.99 + i * 7.5) * 100) / 100 }))

/**
 * The storefront's API as msw handlers, answering as the bundled target does.
 * Relative paths match on any origin, so they answer whatever `baseUrl` the
 * dry run has.
 */
export const storefrontHandlers = [
  http.get('/products', () => HttpResponse.json(products)),
  http.get('/products/:id', ({ params }) => {
    const product = products.find((p) => String(p.id) === params.id)
    return product === undefined ? HttpResponse.json({ error: `no product ${params.id}` }, { status: 404 }) : HttpResponse.json(product)
  }),
  http.post('/cart', async ({ request }) => {
    const { id } = (await request.json()) as { id?: unknown }
    if (typeof id !== 'number') return HttpResponse.json({ error: 'POST /cart expects a JSON body, e.g. {"id": 1}' }, { status: 400 })
    return HttpResponse.json({ ok: true, items: 1 }, { status: 201, headers: { 'set-cookie': 'cart=dry-run; Path=/; HttpOnly' } })
  }),
]
