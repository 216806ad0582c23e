import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiServerEvent, type HttpEvent, pingEvent } from '../controller/source-events.ts';
import { runBundle, saveCodeCache } from './code-cache.ts';
import type { FunctionBundle } from './functions.ts';
import { bundleFlags, TRAINING_ENV } from './runtime.ts';

const TIMEOUT_MS = 60_000;

/**
 * Writes each function's code cache from a training run in its own process (the cache is only
 * accepted by the same Node build with the same flags, so the runtime image runs this itself).
 * The API server it is given refuses connections: the run needs no cluster, and answers 503.
 */
export async function writeCodeCaches(entrypoint: string, bundles: readonly FunctionBundle[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'drop-train-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, refusingKubeconfig(await freePort()), { mode: 0o600 });
    for (const bundle of bundles) {
      const port = await freePort();
      await runChild(entrypoint, bundle.name, {
        [TRAINING_ENV]: '1',
        FUNCTION: bundle.name,
        KUBECONFIG: kubeconfig,
        PORT: String(port),
        HOST: '127.0.0.1',
        // Errors only: a function that cannot start says why; the 503s it answers are expected.
        DROP_LOG_LEVEL: 'error',
      });
      const kb = (statSync(bundle.cachePath).size / 1024).toFixed(0);
      console.error(`code cache: ${bundle.name} (${kb} KB)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * In the training process: start the function, send it what a cold start sees first (a probe, a
 * ping, an ApiServerSource event), then save the code V8 compiled for all of it.
 */
export async function trainAndSave(bundle: FunctionBundle): Promise<void> {
  rmSync(bundle.cachePath, { force: true });
  const { script } = runBundle(bundle.path, undefined);
  const base = `http://127.0.0.1:${process.env.PORT}`;
  await untilAnswered(`${base}/healthz`);
  const object = {
    apiVersion: 'drop.corewire.io/v1alpha1',
    kind: 'CachedImage',
    metadata: { name: 'train' },
  };
  const events: HttpEvent[] = [
    pingEvent('drop-system', 'train', {}),
    apiServerEvent(
      '/apis/v1/namespaces/drop-system/apiserversources/train',
      'update',
      object,
      'cachedimages',
      'Reference',
    ),
  ];
  for (const event of events) await fetch(base, { method: 'POST', headers: event.headers, body: event.body });
  saveCodeCache(script, bundle.cachePath);
  process.exit(0);
}

async function untilAnswered(url: string): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`no answer from ${url} within ${TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function runChild(entrypoint: string, name: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    // Under the flags the bundle runs with: the training process's own, and the bundle's.
    const child = spawn(process.execPath, [...process.execArgv, ...bundleFlags(name), entrypoint], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`training run of ${name} failed (exit ${code ?? signal})`));
    });
  });
}

/** A port nothing listens on (taken from the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** A kubeconfig whose API server refuses every connection (nothing listens on the port). */
export function refusingKubeconfig(port: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'train', cluster: { server: `https://127.0.0.1:${port}` } }],
    users: [{ name: 'train', user: { token: 'train' } }],
    contexts: [{ name: 'train', context: { cluster: 'train', user: 'train' } }],
    'current-context': 'train',
  });
}
