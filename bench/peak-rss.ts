// Peak resident memory of the process it runs in, for the bench clients.

/** Samples the RSS every 250 ms from now on; `stop()` returns the peak in MiB. */
export function trackPeakRss(): { stop(): number } {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 250)
  return {
    stop() {
      clearInterval(timer)
      return Math.max(peak, process.memoryUsage.rss()) / 2 ** 20
    },
  }
}
