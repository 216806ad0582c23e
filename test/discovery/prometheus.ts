// A real Prometheus (the Debian package) with a week of backfilled series: promtool turns an
// OpenMetrics file into TSDB blocks, Prometheus serves them over TLS with basic auth.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { basicAuthorization } from '../../lib/discovery/credentials.ts';
import { send } from '../../lib/discovery/http.ts';
import { freePorts } from '../controlplane/processes.ts';
import type { Pki } from './pki.ts';
import { bcrypt, type RunningServer, startServer } from './process.ts';

/** One series to backfill: its metric, labels, and its value at each sample time (seconds). */
export interface TestSeries {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: (time: number) => number;
}

export interface TestPrometheus {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Sample times, seconds, oldest first: every `sampleSeconds` up to the data's end. */
  readonly times: readonly number[];
  readonly server: RunningServer;
}

export const PROMETHEUS_USER = 'drop';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** The OpenMetrics text promtool backfills: each family's samples together, each series in time order. */
export function openMetrics(series: readonly TestSeries[], times: readonly number[]): string {
  const lines: string[] = [];
  for (const metric of [...new Set(series.map((s) => s.metric))]) {
    lines.push(`# TYPE ${metric} gauge`);
    for (const one of series.filter((s) => s.metric === metric)) {
      const labels = Object.entries(one.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      for (const time of times) lines.push(`${metric}{${labels}} ${formatValue(one.value(time))} ${time}`);
    }
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

/**
 * Backfills `series` at every `sampleSeconds` over [end - spanSeconds, end] and starts Prometheus
 * on a free loopback port with TLS (the test CA) and basic auth.
 */
export async function startPrometheus(options: {
  readonly dir: string;
  readonly pki: Pki;
  readonly series: readonly TestSeries[];
  readonly end: number;
  readonly spanSeconds: number;
  readonly sampleSeconds: number;
  readonly password: string;
}): Promise<TestPrometheus> {
  const { dir, pki } = options;
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const first = options.end - Math.ceil(options.spanSeconds / options.sampleSeconds) * options.sampleSeconds;
  const times: number[] = [];
  for (let t = first; t <= options.end; t += options.sampleSeconds) times.push(t);
  writeFileSync(join(dir, 'series.om'), openMetrics(options.series, times));
  execFileSync(
    'promtool',
    ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=24h', join(dir, 'series.om'), data],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  evaluation_interval: 1h\n');
  writeFileSync(
    join(dir, 'web.yml'),
    [
      'tls_server_config:',
      `  cert_file: ${pki.serverCertFile}`,
      `  key_file: ${pki.serverKeyFile}`,
      'basic_auth_users:',
      `  ${PROMETHEUS_USER}: ${bcrypt(options.password)}`,
      '',
    ].join('\n'),
  );
  const [port] = await freePorts(1);
  const url = `https://127.0.0.1:${port}`;
  const authorization = basicAuthorization({ username: PROMETHEUS_USER, password: options.password });
  const server = await startServer(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--web.config.file=${join(dir, 'web.yml')}`,
      `--storage.tsdb.path=${data}`,
      '--storage.tsdb.retention.time=30d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    {
      logFile: join(dir, 'prometheus.log'),
      ready: async () => {
        const answer = await send({
          url: new URL('/-/ready', url),
          headers: { authorization },
          tls: { ca: pki.caPem },
          timeoutMs: 2_000,
          maxBytes: 4096,
        });
        return answer.ok && answer.response.status === 200;
      },
    },
  );
  return { url, username: PROMETHEUS_USER, password: options.password, times, server };
}
