import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { servingFlags } from '../entrypoint/runtime.ts';
import { createLogger } from '../log.ts';

const log = createLogger();

/** Serves a function app on $PORT (Knative's runtime contract: 8080 by default) and stops cleanly on SIGTERM. */
export function serveApp(app: Hono, port = Number(process.env.PORT) || 8080): ServerType {
  const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST || '0.0.0.0' });
  // After the first answer, so the cold start runs at full speed (lib/entrypoint/runtime.ts).
  server.once('request', (_request, response) =>
    response.once('finish', () => {
      const { refused } = servingFlags();
      if (refused.length > 0)
        log.warn('DROP_SERVING_NODE_FLAGS: flags Node takes only at start, not applied', { refused });
    }),
  );
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return server;
}
