import type { Kube, KubeObject } from './client.ts';
import { KubeError } from './errors.ts';
import type { KubeHttp } from './http.ts';

export type WatchAction = 'add' | 'update' | 'delete';

export interface WatchTarget {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  /** Collection path, e.g. /api/v1/namespaces/drop-system/pods. */
  readonly path: string;
  readonly labelSelector?: string;
}

type Emit = (action: WatchAction, object: KubeObject) => Promise<void>;

interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: KubeObject & { readonly code?: number };
}

const ACTIONS: Readonly<Record<string, WatchAction>> = {
  ADDED: 'add',
  MODIFIED: 'update',
  DELETED: 'delete',
};

/**
 * List, emit every existing object (the Knative adapter does not: the runner does, so nothing is
 * missed at start), then watch from the list's resourceVersion; relist on 410 Gone or a broken stream.
 * A cache passes `onListed` (each complete list, the first and after a relist, replaces its content)
 * and `emitListed: false`: it needs the list once, not again as an add per object.
 */
export async function runWatch(
  kube: Kube,
  http: KubeHttp,
  target: WatchTarget,
  emit: Emit,
  signal: AbortSignal,
  onError: (error: unknown) => void,
  options: {
    readonly onListed?: (objects: readonly KubeObject[]) => void;
    readonly emitListed?: boolean;
    /** A stream silent this long is given up and opened again (default WATCH_IDLE_MS). */
    readonly idleMs?: number;
  } = {},
): Promise<void> {
  while (!signal.aborted) {
    try {
      const resourceVersion = await listOnce(kube, target, emit, options);
      await streamFrom(http, target, resourceVersion, emit, signal, options.idleMs ?? WATCH_IDLE_MS);
    } catch (error) {
      if (signal.aborted) return;
      if (!(error instanceof KubeError && error.status === 410)) onError(error);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/**
 * Lists the collection, hands the objects on and returns the list's resourceVersion, the watch's
 * start. A function of its own so that the list response, every object whole as the API server sent
 * it, is garbage once handed on: held in runWatch's frame it stayed alive as long as the watch (a
 * thousand full node objects, ~10 MB, for the life of a runner).
 */
async function listOnce(
  kube: Kube,
  target: WatchTarget,
  emit: Emit,
  options: { readonly onListed?: (objects: readonly KubeObject[]) => void; readonly emitListed?: boolean },
): Promise<string> {
  const list = await kube.list<KubeObject>(target.path, { labelSelector: target.labelSelector });
  options.onListed?.(list.items.map((object) => withKind(object, target)));
  if (options.emitListed !== false)
    for (const object of list.items) await emit('add', withKind(object, target));
  return list.metadata.resourceVersion ?? '';
}

/**
 * How long a watch may stay silent. The API server sends a BOOKMARK at least every minute to a
 * watch that allows them (measured: 60 s apart on an idle collection), so three minutes of silence
 * means a connection that died without closing — an API server frozen or gone behind a proxy or
 * load balancer, a half-open TCP connection — which would otherwise leave the cache stale for ever
 * (client-go guards the same case with HTTP/2 pings). The chaos suite's frozen-proxy fault found it.
 */
export const WATCH_IDLE_MS = 180_000;

async function streamFrom(
  http: KubeHttp,
  target: WatchTarget,
  resourceVersion: string,
  emit: Emit,
  signal: AbortSignal,
  idleMs: number,
): Promise<void> {
  let version = resourceVersion;
  for (;;) {
    const query: Record<string, string> = {
      watch: 'true',
      resourceVersion: version,
      allowWatchBookmarks: 'true',
      timeoutSeconds: '300',
    };
    if (target.labelSelector) query.labelSelector = target.labelSelector;
    // The silence deadline covers the wait for the response too: a frozen server never answers.
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener('abort', stop, { once: true });
    // Re-armed at every chunk (refresh: no new timer each time).
    const idle = setTimeout(() => attempt.abort(), idleMs);
    idle.unref();
    const stillAlive = () => idle.refresh();
    let buffer = '';
    try {
      const response = await http.stream(target.path, query, attempt.signal);
      // A decoder, so a character split between two chunks stays whole.
      response.setEncoding('utf8');
      for await (const chunk of response) {
        stillAlive();
        // Only the new text can hold the line's end: a large object over many chunks is not scanned again.
        let searchFrom = buffer.length;
        buffer += chunk as string;
        let start = 0;
        for (
          let newline = buffer.indexOf('\n', searchFrom);
          newline >= 0;
          newline = buffer.indexOf('\n', searchFrom)
        ) {
          const line = buffer.slice(start, newline).trim();
          start = newline + 1;
          searchFrom = start;
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent;
          if (event.type === 'ERROR')
            throw new KubeError('unexpected', event.object.code ?? 500, 'watch error');
          version = event.object.metadata.resourceVersion ?? version;
          const action = ACTIONS[event.type];
          if (action) await emit(action, withKind(event.object, target));
        }
        buffer = buffer.slice(start);
      }
    } catch (error) {
      if (attempt.signal.aborted && !signal.aborted)
        throw new KubeError('timeout', 0, `watch of ${target.path} silent for ${idleMs} ms`);
      throw error;
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
    }
    if (signal.aborted) return;
  }
}

// List items carry no apiVersion/kind; the events need them.
function withKind(object: KubeObject, target: WatchTarget): KubeObject {
  return { ...object, apiVersion: target.apiVersion, kind: target.kind };
}
