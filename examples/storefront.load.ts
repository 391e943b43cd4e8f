import { inject } from 'vitest'
import { loadTest, scenario } from 'chaperon'

// A shopper browses the catalogue, looks at one product and puts it in the cart.
const shop = scenario('shop', async (s) => {
  const list = await s.get('/products', { check: { 'is 200': (r) => r.status === 200 } })
  const products = list.json<Array<{ id: number }>>()
  const product = products[s.iteration % products.length]!
  await s.get(`/products/${product.id}`, { name: 'GET /products/:id' })
  await s.delay({ min: 10, max: 30 })
  await s.post('/cart', { json: { id: product.id }, expect: 201 })
})

loadTest('storefront holds its latency budget under 20 steady users', {
  baseUrl: process.env.TARGET_URL ?? inject('chaperon:targetUrl'),
  scenarios: {
    shoppers: { scenario: shop, executor: 'constant-vus', vus: 20, duration: '5s' },
  },
  thresholds: {
    http_req_duration: ['p(95)<200', 'p(99)<400'],
    'http_req_duration{name:GET /products}': ['p(95)<100'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
})
