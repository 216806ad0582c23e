// The cold-start baseline: bare Node + Hono answering its first request, nothing else.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.all('*', (c) => c.text('hello'));
serve({ fetch: app.fetch, port: Number(process.env.PORT) || 8080, hostname: '127.0.0.1' });
