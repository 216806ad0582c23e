// A real Prometheus (the Debian package) that scrapes Drop's /metrics every second, and asks it
// PromQL through its HTTP API: what a user's Prometheus and Grafana do with Drop.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../controlplane/processes.ts';
import { ensureDiscoveryServers, type RunningServer, startServer } from '../discovery/process.ts';
import { waitFor } from './harness.ts';

export interface ScrapingPrometheus {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly server: RunningServer;
  /** An instant query now: the samples (labels and value) it returns. */
  query(promql: string): Promise<readonly Sample[]>;
  /** A range query, as a Grafana graph asks it: every series' values from `start` to now. */
  queryRange(promql: string, start: Date, stepSeconds: number): Promise<readonly RangeSeries[]>;
}

export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly number[];
}

export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

interface QueryAnswer {
  readonly status: string;
  readonly error?: string;
  readonly data?: {
    readonly resultType: string;
    readonly result: readonly {
      metric: Record<string, string>;
      value?: [number, string];
      values?: [number, string][];
    }[];
  };
}

async function ask(
  url: string,
  path: string,
  form: Record<string, string>,
): Promise<NonNullable<QueryAnswer['data']>> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const answer = (await response.json()) as QueryAnswer;
  if (answer.status !== 'success' || !answer.data)
    throw new Error(`Prometheus refused ${form.query}: ${answer.error ?? response.status}`);
  return answer.data;
}

/** Starts Prometheus in `dir`, scraping each target (host:port, path /metrics) every second. */
export async function startScrapingPrometheus(
  dir: string,
  targets: readonly string[],
): Promise<ScrapingPrometheus> {
  ensureDiscoveryServers();
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      // Up to the interval: a loaded machine answers /metrics slowly, and a timed-out scrape is a gap.
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: drop',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    {
      logFile: join(dir, 'prometheus.log'),
      ready: async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200,
    },
  );
  const prometheus: ScrapingPrometheus = {
    url,
    server,
    async query(promql) {
      const data = await ask(url, '/api/v1/query', { query: promql });
      if (data.resultType !== 'vector') throw new Error(`${promql} is a ${data.resultType}, not a vector`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value?.[1]) }));
    },
    async queryRange(promql, start, stepSeconds) {
      const data = await ask(url, '/api/v1/query_range', {
        query: promql,
        start: String(start.getTime() / 1000),
        end: String(Date.now() / 1000),
        step: String(stepSeconds),
      });
      return data.result.map((r) => ({
        metric: r.metric,
        values: (r.values ?? []).map(([, v]) => Number(v)),
      }));
    },
  };
  // Prometheus hands new targets to its scrapers a few seconds after it starts: a run before the
  // first scrape would be seen only as its end state.
  await waitFor(async () => (await prometheus.query('up == 1')).length === targets.length, {
    timeoutMs: 60_000,
    intervalMs: 500,
    message: `Prometheus scraping ${targets.join(', ')}`,
  });
  return prometheus;
}
