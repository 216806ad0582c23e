import type { KubeConfig } from '@kubernetes/client-node';
import { KubeError } from './errors.ts';
import { CONTENT_TYPE, KubeHttp, type Method, type RequestOptions } from './http.ts';

/** The metadata Drop reads from any object. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
  readonly finalizers?: readonly string[];
}

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: ObjectMeta;
}

export interface ObjectList<T> {
  readonly items: readonly T[];
  readonly metadata: { readonly resourceVersion?: string; readonly continue?: string };
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** `0`: any recent state, served from the API server's watch cache (no etcd read). */
  readonly resourceVersion?: string;
}

/**
 * One handler's view of the API: typed reads and writes that count their requests, so every
 * handled event can log and export how many API calls it cost.
 */
/** One operation of a JSON patch (RFC 6902) that Drop uses. */
export type JsonPatchOp =
  | { readonly op: 'test' | 'replace' | 'add'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

export class Kube {
  private count = 0;

  constructor(
    readonly transport: KubeHttp,
    readonly fieldManager: string,
    private readonly onRequest?: () => void,
  ) {}

  /** API requests made through this session so far. */
  get requests(): number {
    return this.count;
  }

  /** A session that shares the connection pool but counts on its own. */
  session(fieldManager = this.fieldManager, onRequest?: () => void): Kube {
    return new Kube(this.transport, fieldManager, onRequest);
  }

  /** The object, or undefined when it does not exist. */
  async get<T extends KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.call<T>('GET', path);
    } catch (error) {
      if (error instanceof KubeError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  /** Every item, following `continue` pages. */
  async list<T extends KubeObject>(path: string, options: ListOptions = {}): Promise<ObjectList<T>> {
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page: ObjectList<T> = await this.call('GET', path, {
        query: { ...options, limit: 500, continue: token },
      });
      items.push(...page.items);
      token = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (token);
    return { items, metadata: { resourceVersion } };
  }

  /** Creates the object; `undefined` when one with that name already exists. */
  async create<T extends KubeObject>(path: string, body: T): Promise<T | undefined> {
    try {
      return await this.call<T>('POST', path, { body, query: { fieldManager: this.fieldManager } });
    } catch (error) {
      if (error instanceof KubeError && error.kind === 'already-exists') return undefined;
      throw error;
    }
  }

  /** PUT: with `metadata.resourceVersion` in the body this is an optimistic-concurrency write (409 on a race). */
  replace<T extends KubeObject>(path: string, body: T): Promise<T> {
    return this.call<T>('PUT', path, { body, query: { fieldManager: this.fieldManager } });
  }

  /** JSON merge patch (RFC 7386): the only patch besides apply that custom resources accept. */
  mergePatch<T extends KubeObject>(path: string, patch: unknown): Promise<T> {
    return this.call<T>('PATCH', path, {
      body: patch,
      contentType: CONTENT_TYPE.mergePatch,
      query: { fieldManager: this.fieldManager },
    });
  }

  /**
   * JSON patch (RFC 6902), for built-in kinds: a `test` op first makes the patch conditional on
   * what was read (a 422 `invalid` when it no longer holds), for lists a merge patch cannot guard.
   */
  jsonPatch<T extends KubeObject>(path: string, ops: readonly JsonPatchOp[]): Promise<T> {
    return this.call<T>('PATCH', path, {
      body: ops,
      contentType: CONTENT_TYPE.jsonPatch,
      query: { fieldManager: this.fieldManager },
    });
  }

  /** Server-side apply under this session's field manager. */
  apply<T extends KubeObject>(path: string, body: unknown, force = true): Promise<T> {
    return this.call<T>('PATCH', path, {
      body,
      contentType: CONTENT_TYPE.apply,
      query: { fieldManager: this.fieldManager, force },
    });
  }

  /**
   * Deletes the object; false when it was already gone. `uid` makes the delete conditional on
   * identity, `resourceVersion` on nobody having written it since it was read (false if someone did).
   */
  async delete(
    path: string,
    options: { uid?: string; resourceVersion?: string; gracePeriodSeconds?: number } = {},
  ): Promise<boolean> {
    const conditional = options.uid !== undefined || options.resourceVersion !== undefined;
    const preconditions = conditional
      ? {
          ...(options.uid ? { uid: options.uid } : {}),
          ...(options.resourceVersion ? { resourceVersion: options.resourceVersion } : {}),
        }
      : undefined;
    try {
      await this.call('DELETE', path, {
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          preconditions,
          gracePeriodSeconds: options.gracePeriodSeconds,
        },
      });
      return true;
    } catch (error) {
      if (error instanceof KubeError && error.kind === 'not-found') return false;
      // A precondition that no longer holds: a newer object took the name, or someone wrote it since.
      if (error instanceof KubeError && error.kind === 'conflict' && conditional) return false;
      throw error;
    }
  }

  /**
   * DELETE on a collection: every object the selector matches, in one request (the server lists
   * and deletes them). For objects whose selector cannot match anything newer than intended.
   */
  async deleteCollection(
    path: string,
    options: ListOptions & { gracePeriodSeconds?: number },
  ): Promise<void> {
    const { gracePeriodSeconds, ...selectors } = options;
    await this.call('DELETE', path, {
      query: { ...selectors },
      body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds },
    });
  }

  private call<T>(method: Method, path: string, options?: RequestOptions): Promise<T> {
    this.count++;
    this.onRequest?.();
    return this.transport.request<T>(method, path, options);
  }
}

/** Builds the shared connection and a root session for one function. */
export function createKube(config: KubeConfig, fieldManager: string): Kube {
  return new Kube(new KubeHttp(config, `drop/${fieldManager}`), fieldManager);
}
