import type { DiscoverySignal, EventPullTime, TimeWeightedAggregate, WindowAggregate } from '../api/index.ts';
import { parseDuration } from '../duration.ts';
import { localMinutes } from './local-time.ts';
import type { ImageObservations, QueryData, Sample } from './observations.ts';
import { quantityValue } from './quantity.ts';
import { aggregate, eventStatistic } from './statistics.ts';

// Stage 2: one number per image from one query's observations. An image with nothing to reduce
// (no sample in the window, no event of the metric) has no value, which the ranking treats as
// missing — not as 0.

/** The values of `signal` over `data`, by reference. */
export function signalValues(
  signal: DiscoverySignal,
  data: QueryData,
  now: Date,
): ReadonlyMap<string, number> {
  const reduce = reducerOf(signal, now);
  const values = new Map<string, number>();
  for (const [reference, image] of data) {
    const value = reduce(image);
    if (value !== undefined && Number.isFinite(value)) values.set(reference, value);
  }
  return values;
}

type Reducer = (image: ImageObservations) => number | undefined;

function reducerOf(signal: DiscoverySignal, now: Date): Reducer {
  if (signal.type === 'timeWeightedAggregate' && signal.timeWeightedAggregate)
    return timeWeighted(signal.timeWeightedAggregate);
  if (signal.type === 'windowAggregate' && signal.windowAggregate)
    return windowed(signal.windowAggregate, now);
  if (signal.type === 'eventPullTime' && signal.eventPullTime) return pullStatistic(signal.eventPullTime);
  const method = signal.aggregate?.method ?? 'sum';
  return (image) => (image.samples.length ? aggregate(image.samples.map(sampleValue), method) : undefined);
}

const sampleValue = (s: Sample) => s.value;

/** Each sample times the weight of the first window holding its local hour (else defaultWeight). */
function timeWeighted(config: TimeWeightedAggregate): Reducer {
  const minutes = localMinutes(config.timezone);
  const fallback = quantityValue(config.defaultWeight) ?? 0;
  const windows = config.windows.map((w) => ({
    start: w.startHour,
    end: w.endHour,
    weight: quantityValue(w.weight) ?? 0,
  }));
  const weightAt = (at: number) => {
    const hour = Math.floor(minutes(at) / 60);
    return windows.find((w) => hour >= w.start && hour < w.end)?.weight ?? fallback;
  };
  return (image) =>
    image.samples.length
      ? aggregate(
          image.samples.map((s) => s.value * weightAt(s.at)),
          config.method,
        )
      : undefined;
}

/**
 * relativeWindow: the samples of the last N before now. window: the samples whose local time of
 * day is in [start, end) — on every day the query covers; an end before the start crosses
 * midnight, an end equal to the start is the whole day.
 */
function windowed(config: WindowAggregate, now: Date): Reducer {
  const inWindow = windowTest(config, now);
  return (image) => {
    const kept = image.samples.filter((s) => inWindow(s.at));
    return kept.length ? aggregate(kept.map(sampleValue), config.method) : undefined;
  };
}

function windowTest(config: WindowAggregate, now: Date): (at: number) => boolean {
  if (config.relativeWindow !== undefined) {
    const from = (now.getTime() - (parseDuration(config.relativeWindow) ?? 0)) / 1000;
    return (at) => at >= from;
  }
  const { start, end } = config.window ?? { start: '00:00', end: '00:00' };
  const from = minutesOf(start);
  const to = minutesOf(end);
  const minutes = localMinutes(config.timezone ?? 'UTC');
  if (from === to) return () => true;
  if (from < to)
    return (at) => {
      const m = minutes(at);
      return m >= from && m < to;
    };
  return (at) => {
    const m = minutes(at);
    return m >= from || m < to;
  };
}

function minutesOf(hhmm: string): number {
  const [hours = 0, minutes = 0] = hhmm.split(':').map(Number);
  return hours * 60 + minutes;
}

/** An eventPullTime statistic over the chosen metric's values (Go Drop's deriveEventPullTime). */
function pullStatistic(config: EventPullTime): Reducer {
  return (image) => {
    const values = metricValues(image, config);
    return values.length ? eventStatistic(values, config.statistic) : undefined;
  };
}

function metricValues(image: ImageObservations, config: EventPullTime): number[] {
  const values: number[] = [];
  for (const event of image.pulls) {
    switch (config.metric) {
      case 'imageSize':
        if (event.kind === 'pulled' && event.bytes !== undefined && event.bytes > 0) values.push(event.bytes);
        break;
      case 'failure':
        if (event.kind === 'failed') values.push(1);
        break;
      case 'cacheHit':
        if (event.kind === 'cacheHit') values.push(1);
        break;
      default: {
        if (event.kind === 'cacheHit' && config.includeCacheHits) values.push(0);
        if (event.kind !== 'pulled') break;
        const [first, second] =
          config.durationMode === 'eventPair'
            ? [event.pairSeconds, event.seconds]
            : [event.seconds, event.pairSeconds];
        const seconds = first ?? second;
        if (seconds !== undefined) values.push(seconds);
      }
    }
  }
  return values;
}
