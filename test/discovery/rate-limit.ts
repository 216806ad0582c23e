// nginx in front of a discovery server with limit_req, as a registry or Prometheus is often run:
// over the limit it answers 429 with the Retry-After it is configured to send. Each zone allows
// one request per `everySeconds` (no burst), so a second request at once is limited.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '../../lib/discovery/index.ts';
import { freePorts } from '../controlplane/processes.ts';
import { type RunningServer, startServer } from './process.ts';

export interface RateLimiter {
  /** The upstream, limited, below `/<zone>/`: `http://127.0.0.1:<port>/<zone>`. */
  url(zone: string): string;
  /** How many requests nginx has limited so far (its error log says so per request). */
  limited(): number;
  readonly server: RunningServer;
}

export interface Zone {
  readonly name: string;
  readonly everySeconds: number;
  readonly retryAfterSeconds: number;
}

export async function startRateLimiter(options: {
  readonly dir: string;
  readonly upstream: string;
  readonly zones: readonly Zone[];
}): Promise<RateLimiter> {
  const [port] = await freePorts(1);
  const prefix = join(options.dir, 'nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const errorLog = join(prefix, 'logs', 'error.log');
  const upstream = options.upstream.replace(/\/$/, '');
  const zones = options.zones.flatMap((z) => [
    `    limit_req_zone $server_port zone=${z.name}:1m rate=${Math.max(1, Math.round(60 / z.everySeconds))}r/m;`,
  ]);
  const locations = options.zones.flatMap((z) => [
    `    location /${z.name}/ {`,
    `      limit_req zone=${z.name};`,
    `      error_page 429 = @${z.name}-limited;`,
    `      proxy_pass ${upstream}/;`,
    '    }',
    `    location @${z.name}-limited {`,
    `      add_header Retry-After ${z.retryAfterSeconds} always;`,
    '      return 429;',
    '    }',
  ]);
  const config = [
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(prefix, 'nginx.pid')};`,
    `error_log ${errorLog} warn;`,
    'events {}',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
      (t) => `  ${t}_temp_path ${join(prefix, t)};`,
    ),
    '  limit_req_status 429;',
    ...zones,
    '  server {',
    `    listen 127.0.0.1:${port};`,
    ...locations,
    '  }',
    '}',
    '',
  ].join('\n');
  const configFile = join(prefix, 'nginx.conf');
  writeFileSync(configFile, config);
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer('nginx', ['-p', prefix, '-c', configFile, '-e', errorLog], {
    logFile: join(prefix, 'stdout.log'),
    ready: async () => {
      const answer = await send({ url: new URL('/', base), timeoutMs: 2_000, maxBytes: 4096 });
      return answer.ok;
    },
  });
  return {
    url: (zone) => `${base}/${zone}`,
    limited: () => (readFileSync(errorLog, 'utf8').match(/limiting requests/g) ?? []).length,
    server,
  };
}
