import { inject } from 'vitest'
import { feeder, loadTest, scenario } from 'chaperon'

// Each account in data/users.csv signs in once and buys its product: a unique
// feeder hands every row to one iteration only, across VUs and worker threads
// (and across machines in a split run). The path is relative to this module.
const users = feeder.csv<{ username: string; password: string; productId: string }>(new URL('./data/users.csv', import.meta.url), { mode: 'unique' })

const buyer = scenario('buyer', async (s) => {
  const user = users.next()
  await s.get('/basic-auth', {
    query: { user: user.username, pass: user.password },
    auth: { username: user.username, password: user.password },
    name: 'GET /basic-auth',
    check: { 'signed in': (r) => r.json<{ user: string }>().user === user.username },
  })
  const product = await s.get(`/products/${user.productId}`, { name: 'GET /products/:id', check: { 'is 200': (r) => r.status === 200 } })
  await s.post('/cart', { json: { id: product.json<{ id: number }>().id }, expect: 201 })
})

loadTest('every account in users.csv signs in and buys once', {
  baseUrl: process.env.TARGET_URL ?? inject('chaperon:targetUrl'),
  scenarios: {
    // As many iterations as rows: a unique feeder that runs out fails the test.
    buyers: { scenario: buyer, executor: 'shared-iterations', vus: 4, iterations: users.length },
  },
  thresholds: {
    iterations: [`count==${users.length}`],
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
  },
})
