import type { MetricInfo } from './series.ts'

/**
 * The metrics chaperon itself emits, with k6's names. Thresholds may name these
 * or any metric a test file declares; anything else is rejected at collection.
 */
// No prototype, so a lookup of a name such as 'constructor' finds nothing.
export const BUILTIN_METRICS: Readonly<Record<string, MetricInfo>> = Object.freeze(Object.assign(Object.create(null) as Record<string, MetricInfo>, {
  http_reqs: { type: 'counter', unit: 'count', description: 'HTTP requests sent' },
  http_req_duration: { type: 'trend', unit: 'time', description: 'time from sending the request to the end of the response body' },
  http_req_waiting: { type: 'trend', unit: 'time', description: 'time from sending the request to the first response byte' },
  http_req_receiving: { type: 'trend', unit: 'time', description: 'time spent reading the response body' },
  http_req_failed: { type: 'rate', unit: 'count', description: 'share of requests that failed (network error or unexpected status)' },
  iterations: { type: 'counter', unit: 'count', description: 'scenario iterations completed' },
  dropped_iterations: { type: 'counter', unit: 'count', description: 'arrival-rate iterations that could not start: no VU was free and maxVUs were all busy' },
  iteration_latency_corrected: { type: 'trend', unit: 'time', description: 'arrival-rate iterations: from the planned start to the end of the iteration' },
  http_req_latency_corrected: { type: 'trend', unit: 'time', description: "arrival-rate iterations' requests: http_req_duration plus how late the iteration started against its plan" },
  iteration_duration: { type: 'trend', unit: 'time', description: 'time of one whole scenario iteration' },
  data_sent: { type: 'counter', unit: 'bytes', description: 'bytes sent' },
  data_received: { type: 'counter', unit: 'bytes', description: 'bytes received' },
  checks: { type: 'rate', unit: 'count', description: 'share of checks that passed' },
  errors: { type: 'counter', unit: 'count', description: 'failed session actions: scenario code that threw, timed-out awaits and signals, WebSocket and Server-Sent Events errors; tagged action and error_code' },
  session_aborts: { type: 'counter', unit: 'count', description: 'sessions ended by s.abort()' },
  call_duration: { type: 'trend', unit: 'time', description: 'time of a traced call: s.call(name, fn) and s.repeat(n, fn, { traced })' },
  vus: { type: 'gauge', unit: 'count', description: 'virtual users running' },
  vus_max: { type: 'gauge', unit: 'count', description: 'virtual users allocated' },
  ws_connecting: { type: 'trend', unit: 'time', description: 'time from starting a WebSocket connect to the completed handshake' },
  ws_sessions: { type: 'counter', unit: 'count', description: 'WebSocket connections opened' },
  ws_msgs_sent: { type: 'counter', unit: 'count', description: 'WebSocket messages sent' },
  ws_msgs_received: { type: 'counter', unit: 'count', description: 'WebSocket messages received' },
  ws_recv_duration: { type: 'trend', unit: 'time', description: 'time a WebSocket recv/awaitRecv waited for its message (0 when one was queued)' },
  ws_session_duration: { type: 'trend', unit: 'time', description: 'time from starting a WebSocket connect to the connection closing' },
  sse_connecting: { type: 'trend', unit: 'time', description: 'time from starting a Server-Sent Events connection to its response headers, for connections that opened' },
  sse_events: { type: 'counter', unit: 'count', description: 'Server-Sent Events received' },
  sse_event_duration: { type: 'trend', unit: 'time', description: 'time from the open of the Server-Sent Events stream (its response headers) that delivered an event to its arrival' },
  sse_reconnects: { type: 'counter', unit: 'count', description: 'Server-Sent Events reconnections after a stream ended or broke' },
}))
