import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';

/** Serves a function app on $PORT (Knative's runtime contract: 8080 by default) and stops cleanly on SIGTERM. */
export function serveApp(app: Hono, port = Number(process.env.PORT) || 8080): ServerType {
  const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST || '0.0.0.0' });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return server;
}
