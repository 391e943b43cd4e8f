import { inject } from 'vitest'
import { loadTest, scenario } from 'chaperon'

// A page that loads its parts at once: over HTTP/2 they go out together on
// one connection, a stream each, where HTTP/1.1 needs a connection for each.
const page = scenario('page', async (s) => {
  const ok = { 'is 200': (r: { status: number }) => r.status === 200 }
  await Promise.all([
    s.get('/products', { check: ok }),
    s.get('/products/3', { name: 'GET /products/:id', check: ok }),
    s.get('/json', { query: { size: 50 }, check: ok }),
    s.get('/delay', { query: { min: 5, max: 20 }, check: ok }),
  ])
  await s.post('/cart', { json: { id: 3 }, expect: 201 })
})

loadTest('a page loads its parts at once over HTTP/2', {
  baseUrl: process.env.TARGET_HTTPS_URL ?? inject('chaperon:targetHttpsUrl'),
  // The bundled target's certificate is self-signed, made when it starts.
  http: { version: 2, insecure: true },
  scenarios: {
    readers: { scenario: page, executor: 'constant-vus', vus: 5, duration: '3s' },
  },
  thresholds: {
    // Every response came over HTTP/2: the server took it in the TLS handshake.
    'http_reqs{proto:HTTP/2.0}': ['count>100'],
    'http_reqs{proto:HTTP/1.1}': ['count==0'],
    'http_req_duration{proto:HTTP/2.0}': ['p(95)<250'],
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
  },
})
