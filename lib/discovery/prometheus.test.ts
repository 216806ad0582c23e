import { describe, expect, it } from 'vitest';
import { prometheusRequest } from './prometheus.ts';

const NOW = new Date('2026-01-10T12:07:30Z');

describe('prometheusRequest', () => {
  it('asks an instant query at now without lookback', () => {
    const query = prometheusRequest(
      { endpoint: 'https://mimir.example.com/prometheus', query: 'up', step: '5m' },
      NOW,
    );
    expect(query).toEqual({
      url: new URL('https://mimir.example.com/prometheus/api/v1/query'),
      form: { query: 'up', time: String(NOW.getTime() / 1000) },
    });
  });

  it('asks a range over lookback ending at now rounded down to the step', () => {
    const query = prometheusRequest(
      { endpoint: 'http://prometheus:9090/', query: 'up', lookback: '168h', step: '5m' },
      NOW,
    );
    const end = Date.parse('2026-01-10T12:05:00Z') / 1000;
    expect(query).toEqual({
      url: new URL('http://prometheus:9090/api/v1/query_range'),
      form: { query: 'up', start: String(end - 168 * 3600), end: String(end), step: '300' },
    });
  });

  it('refuses a step below one second', () => {
    expect(
      prometheusRequest({ endpoint: 'http://p:9090', query: 'up', lookback: '1h', step: '10ms' }, NOW),
    ).toMatchObject({ reason: 'InvalidSpec' });
  });
});
