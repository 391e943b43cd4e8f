import { inject } from 'vitest'
import { loadTest } from 'chaperon'
import { browse } from './scenarios/catalogue.ts'

// An open model on every core: 400 visitors a second for 12 s, the arrivals
// striped over one worker thread per core and the metrics merged exactly.
// The windowed thresholds hold in every 5-second window, not just on average.
loadTest('the catalogue serves 400 visitors a second on every core', {
  baseUrl: process.env.TARGET_URL ?? inject('chaperon:targetUrl'),
  workers: 'auto',
  scenarios: {
    visitors: { scenario: browse, executor: 'constant-arrival-rate', rate: 400, duration: '12s', preAllocatedVUs: 20, maxVUs: 200 },
  },
  thresholds: {
    iterations: ['count>=4700'],
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(95)<250 over 5s'],
    http_req_latency_corrected: ['p(99)<500 over 5s'],
    http_reqs: ['rate>700 over 5s'],
    checks: ['rate>0.99'],
  },
})
