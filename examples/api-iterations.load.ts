import { inject } from 'vitest'
import { loadTest, scenario } from 'chaperon'

// Each user makes the same fixed number of calls, so the counts are exact.
const lookup = scenario('lookup', async (s) => {
  await s.get('/delay', { query: { min: 5, max: 20 }, name: 'GET /delay', check: { 'is 200': (r) => r.ok } })
  await s.get('/json', { query: { size: 20 } })
})

loadTest('every user gets through 50 lookups quickly', {
  baseUrl: process.env.TARGET_URL ?? inject('chaperon:targetUrl'),
  scenarios: {
    users: { scenario: lookup, executor: 'per-vu-iterations', vus: 10, iterations: 50 },
  },
  thresholds: {
    http_reqs: ['count==1000'],
    iterations: ['count==500'],
    'http_req_duration{name:GET /delay}': ['p(99)<250', 'max<1s'],
    checks: ['rate==1'],
  },
})
