// The storefront load test as a dry run: msw handlers answer every request in
// this process, and each scenario runs one VU for one iteration, so a broken
// scenario fails here in well under a second, before any load is sent to a
// real service (docs/dry-run.md).
import { loadTest } from 'chaperon'
import { buy, shop } from './scenarios/storefront.ts'
import { storefrontHandlers } from './scenarios/storefront.mocks.ts'

loadTest('storefront scenarios run end to end against mocks', {
  // Never contacted: the handlers answer, and .invalid names never resolve.
  baseUrl: 'http://storefront.invalid',
  mock: storefrontHandlers,
  scenarios: {
    shoppers: { scenario: shop, executor: 'constant-vus', vus: 20, duration: '5s' },
    buyers: { scenario: buy, executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '5s', preAllocatedVUs: 5, maxVUs: 50 },
  },
  // A dry run has one iteration per scenario, so the thresholds ask what must
  // hold for every request, not for a volume of them.
  thresholds: {
    http_reqs: ['count==4'],
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
    errors: ['count==0'],
  },
})
