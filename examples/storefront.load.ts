import { inject } from 'vitest'
import { loadTest } from 'chaperon'
import { buy, shop } from './scenarios/storefront.ts'

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
