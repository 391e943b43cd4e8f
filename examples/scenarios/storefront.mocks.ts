// The msw handlers that stand in for the storefront's API in its dry run
// (storefront.dry.load.ts, docs/dry-run.md), answering as the bundled target does.
import { http, HttpResponse } from 'msw'

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
