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

// A buyer arrives on schedule, whatever the service's speed: an open model.
const buy = scenario('buy', async (s) => {
  await s.post('/cart', { json: { id: 1 + (s.iteration % 10) }, expect: 201, name: 'POST /cart (arrivals)' })
})

loadTest('storefront holds its latency budget under 20 steady users and 50 arrivals a second', {
  baseUrl: process.env.TARGET_URL ?? inject('chaperon:targetUrl'),
  scenarios: {
    shoppers: { scenario: shop, executor: 'constant-vus', vus: 20, duration: '5s' },
    buyers: { scenario: buy, executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '5s', preAllocatedVUs: 5, maxVUs: 50 },
  },
  thresholds: {
    http_req_duration: ['p(95)<200', 'p(99)<400'],
    'http_req_duration{name:GET /products}': ['p(95)<100'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    // Latency counted from when each buyer should have arrived.
    'http_req_latency_corrected{scenario:buyers}': ['p(95)<250'],
    'iterations{scenario:buyers}': ['count>=245'],
    dropped_iterations: ['count<5'],
  },
})
