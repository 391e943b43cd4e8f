import { inject } from 'vitest'
import { loadTest, scenario } from 'chaperon'

// Chaperon's signals tutorial: a child session subscribes to a channel and tells
// its parent when it is listening; only then does the parent publish, and the
// child waits for the message to arrive.
const publishAndListen = scenario('publish and listen', async (s) => {
  const channel = `news-${s.vu}-${s.iteration}`
  s.async('subscriber', async (child) => {
    const ws = await child.ws.connect(`/ws/broadcast?channel=${channel}`, { name: 'subscription' })
    child.signalParent('subscribed')
    const message = await ws.awaitRecv((m) => m === 'hello', { timeout: '2s' })
    await ws.close()
    return message
  })
  await s.awaitSignal('subscribed', { timeout: '2s' })
  await s.post(`/broadcast/${channel}`, { body: 'hello', name: 'POST /broadcast/:channel' })
  const received = await s.await('subscriber')
  if (received !== 'hello') s.log.warn(`the subscriber got ${String(received)}`)
})

loadTest('every subscriber hears what its parent publishes', {
  baseUrl: process.env.TARGET_URL ?? inject('chaperon:targetUrl'),
  scenarios: {
    newsrooms: { scenario: publishAndListen, executor: 'per-vu-iterations', vus: 20, iterations: 10 },
  },
  thresholds: {
    'ws_msgs_received{name:subscription}': ['count==200'],
    'http_req_duration{name:POST /broadcast/:channel}': ['p(95)<100'],
    errors: ['count==0'],
    http_req_failed: ['rate==0'],
  },
})
