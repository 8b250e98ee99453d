/**
 * The climber that sizes W-TinyLFU's admission window.
 *
 * @internal
 */

/** A sample is this many requests per entry of capacity (Caffeine's density climber: 4). */
const SAMPLE_MULTIPLIER = 4
/** Small capacities sample as if they had this many entries, so a sample is not a handful of requests. */
const MIN_SAMPLE_CAPACITY = 256
/** A region is starved when its hits in a sample are below requests >> 10 (0.1 %), at least 4. */
const STARVATION_SHIFT = 10
const MIN_STARVATION_BAR = 4
/** What a starved region's density is floored at, as a share of the bar (keeps the log ratio finite). */
const STEERING_FLOOR_FRACTION = 0.125
/** The density law never shrinks the window below 2 % of the capacity (a signal-capable window). */
const WINDOW_FLOOR_FRACTION = 0.02
/** The window's log-odds move by the log density ratio times this gain... */
const DENSITY_GAIN = 1
/** ...but by at most this much per sample (a factor of e^2 in odds). */
const MAX_LOGIT_STEP = 2
/** The hit-ratio climber: a change this large reads as a new workload, and the step restarts. */
const RESTART_THRESHOLD = 0.05
/** Its restart step, as a share of the capacity. */
const STEP_PERCENT = 0.0625
/** Each of its samples' step is this much of the last one's. */
const STEP_DECAY_RATE = 0.98
/**
 * A new phase: the hit ratio of a sample of at least this many requests fell by `RESTART_THRESHOLD`
 * or more while the density law steers...
 */
const PHASE_MIN_REQUESTS = 65_536
/** ...and the window grows to at least this share of the capacity at once. */
const PHASE_WINDOW_SHARE = 0.25

/**
 * Decides, after each sample of `samplePeriod` requests, how large W-TinyLFU's admission window
 * should be. Two laws and a jump, after Caffeine's climbers (`WindowClimber`, BoundedLocalCache's hill
 * climber):
 *
 * - The density law, when the window earns enough hits to be measured: compare the hits per
 *   entry of the window and of the main space within the sample, and move capacity towards the
 *   denser one. Both are measured in the same sample, so a workload's phases cancel out. The
 *   move is made in log-odds of the window's share, by the log of the density ratio (an
 *   exponentiated-gradient step on the split), so it is fast from 1 % and gentle near either end;
 *   it rests where the window's share of the capacity equals its share of the hits.
 * - The hit-ratio law, when the window is small and starved (too few hits to measure its density,
 *   which would only ever shrink it): Caffeine's hill climber, which keeps moving the window the
 *   way that did not lower the hit ratio and reverses otherwise, with a decaying step that
 *   restarts at 6.25 % of the capacity on a 5-point change of the hit ratio. It probes upwards
 *   first when it takes over from the density law.
 * - A new phase: when the hit ratio of a large sample falls by 5 points or more, the working set
 *   has moved, and the main space is full of what the sketch still counts as frequent; the window
 *   grows to a quarter of the capacity at once, so that the new keys get the time to earn their
 *   frequency (the density law then sizes it again). Without it a large cache stays behind LRU
 *   for millions of requests after each phase change (P6 at 262,144 entries: 86.8 % against LRU's
 *   90.2 %; with it 88.6 %). Small samples (below 65,536 requests) are left out: their drops
 *   include loops, where a large window loses (Glimpse at 500 entries).
 *
 * A recency-biased trace (OLTP) grows the window to tens of percent; a loop (Glimpse), whose
 * window hits nothing, keeps it small.
 *
 * @internal
 */
export class WindowClimber {
  /** Requests per sample. */
  readonly samplePeriod: number
  /** The hit-ratio law's signed step (entries); it first shrinks, as Caffeine's does. */
  private step: number
  private previousHitRate = 0

  constructor(readonly capacity: number) {
    this.samplePeriod = SAMPLE_MULTIPLIER * Math.max(capacity, MIN_SAMPLE_CAPACITY)
    this.step = -STEP_PERCENT * capacity
  }

  /** The window's new target size (before clamping to 1 .. capacity) after a sample. */
  target(windowHits: number, mainHits: number, misses: number, windowMax: number): number {
    const capacity = this.capacity
    const requests = windowHits + mainHits + misses
    const hitRate = (windowHits + mainHits) / requests
    const change = hitRate - this.previousHitRate
    this.previousHitRate = hitRate
    const bar = Math.max(MIN_STARVATION_BAR, requests >> STARVATION_SHIFT)
    if (windowHits < bar && windowMax <= capacity / 4) {
      const amount = change >= 0 ? this.step : -this.step
      this.step = Math.abs(change) >= RESTART_THRESHOLD
        ? STEP_PERCENT * capacity * Math.sign(amount)
        : STEP_DECAY_RATE * amount
      return windowMax + Math.trunc(amount)
    }
    this.step = STEP_PERCENT * capacity
    if (requests >= PHASE_MIN_REQUESTS && change <= -RESTART_THRESHOLD) {
      return Math.max(windowMax, Math.trunc(PHASE_WINDOW_SHARE * capacity))
    }
    const mainMax = capacity - windowMax
    const windowDensity = Math.max(windowHits, STEERING_FLOOR_FRACTION * bar) / Math.max(1, windowMax)
    const mainDensity = Math.max(mainHits, STEERING_FLOOR_FRACTION * bar) / Math.max(1, mainMax)
    const error = Math.log(windowDensity / mainDensity)
    const share = Math.min(Math.max(windowMax / capacity, 0.5 / capacity), 1 - 0.5 / capacity)
    const logit = Math.log(share / (1 - share)) +
      Math.max(-MAX_LOGIT_STEP, Math.min(MAX_LOGIT_STEP, DENSITY_GAIN * error))
    const next = capacity / (1 + Math.exp(-logit))
    return Math.trunc(Math.max(WINDOW_FLOOR_FRACTION * capacity, next))
  }
}
