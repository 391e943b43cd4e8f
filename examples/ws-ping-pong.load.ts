import { inject } from 'vitest'
import { Counter, loadTest, scenario } from 'chaperon'

// Chaperon's WebSocket tutorial: each user opens a socket and plays ping-pong on it.
const pongs = new Counter('pongs')

const pingPong = scenario('ping-pong', async (s) => {
  const ws = await s.ws.connect('/ws/ping-pong')
  if (!ws.ok) return
  await s.repeat(
    20,
    async () => {
      ws.send('ping')
      if ((await ws.recv({ timeout: '2s' })) === 'pong') pongs.add(1)
    },
    { traced: 'ping-pong round trip' },
  )
  await ws.close()
})

loadTest('ping-pong over WebSocket stays quick', {
  baseUrl: process.env.TARGET_URL ?? inject('chaperon:targetUrl'),
  scenarios: {
    players: { scenario: pingPong, executor: 'per-vu-iterations', vus: 50, iterations: 5 },
  },
  thresholds: {
    ws_sessions: ['count==250'],
    ws_msgs_sent: ['count==5000'],
    pongs: ['count==5000'],
    ws_recv_duration: ['p(95)<100'],
    'call_duration{name:ping-pong round trip}': ['p(99)<200'],
    errors: ['count==0'],
  },
})
