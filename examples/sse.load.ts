import { inject } from 'vitest'
import { Counter, loadTest, scenario } from 'chaperon'

// A ticker over Server-Sent Events: each user follows the stream for ten ticks. The flaky
// feed drops its connection every three ticks; its users reconnect after the feed's `retry`
// time and resume where it broke, with Last-Event-ID, so they still see every tick once.
const outOfOrder = new Counter('ticks_out_of_order')

function follow(name: string, path: string) {
  return scenario(name, async (s) => {
    let last = 0
    for await (const event of s.sse(path, { name, maxEvents: 10, duration: '10s' })) {
      const { n } = JSON.parse(event.data) as { n: number }
      if (n !== last + 1) outOfOrder.add(1)
      last = n
    }
  })
}

loadTest('ticks arrive in order, also across reconnections', {
  baseUrl: process.env.TARGET_URL ?? inject('chaperon:targetUrl'),
  scenarios: {
    steady: { scenario: follow('ticks', '/sse/ticks?count=10&interval=50'), executor: 'constant-vus', vus: 20, duration: '3s' },
    flaky: { scenario: follow('flaky', '/sse/ticks?count=10&interval=50&drop=3&retry=100'), executor: 'per-vu-iterations', vus: 10, iterations: 2 },
  },
  thresholds: {
    sse_connecting: ['p(95)<200'],
    'sse_event_duration{name:ticks}': ['p(95)<1000'],
    'sse_events{name:flaky}': ['count==200'],
    // Dropped after ticks 3, 6 and 9: three reconnections a stream, each after a broken one.
    'sse_reconnects{name:flaky}': ['count==60'],
    'errors{action:sse.stream}': ['count==60'],
    'errors{action:sse.connect}': ['count==0'],
    ticks_out_of_order: ['count==0'],
  },
})
