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
  } = {},
): Promise<void> {
  while (!signal.aborted) {
    try {
      const list = await kube.list<KubeObject>(target.path, { labelSelector: target.labelSelector });
      options.onListed?.(list.items.map((object) => withKind(object, target)));
      if (options.emitListed !== false)
        for (const object of list.items) await emit('add', withKind(object, target));
      await streamFrom(http, target, list.metadata.resourceVersion ?? '', emit, signal);
    } catch (error) {
      if (signal.aborted) return;
      if (!(error instanceof KubeError && error.status === 410)) onError(error);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function streamFrom(
  http: KubeHttp,
  target: WatchTarget,
  resourceVersion: string,
  emit: Emit,
  signal: AbortSignal,
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
    const response = await http.stream(target.path, query, signal);
    // A decoder, so a character split between two chunks stays whole.
    response.setEncoding('utf8');
    let buffer = '';
    for await (const chunk of response) {
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
    if (signal.aborted) return;
  }
}

// List items carry no apiVersion/kind; the events need them.
function withKind(object: KubeObject, target: WatchTarget): KubeObject {
  return { ...object, apiVersion: target.apiVersion, kind: target.kind };
}
