// Which cluster an integration file runs against. The files run on several workers at once, each
// file in a process of its own, and every file needs a cluster to itself. Vitest's VITEST_POOL_ID
// cannot say which: two files running at once can be given the same one (vitest 4.1). So a file's
// process claims a cluster by listening on an abstract Unix socket named after it: the kernel lets
// one process hold a name at a time and frees it when that process exits, however it exits.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';

export interface Claim {
  /** The kubeconfig path of the claimed cluster. */
  readonly path: string;
  /** Frees the cluster before the process exits (the exit frees it anyway). */
  release(): Promise<void>;
}

/**
 * Claims the first of `paths` no other live claim holds, waiting while all are held (a file's
 * process exits a moment after the file ends). Rejects after `timeoutMs` with what it waited for.
 */
export async function claimOneOf(paths: readonly string[], timeoutMs = 600_000): Promise<Claim> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const path of paths) {
      const server = await listenOn(socketName(path));
      if (server) {
        // The claim must not keep the process alive.
        server.unref();
        return {
          path,
          release: () => new Promise((resolve) => server.close(() => resolve())),
        };
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `no test cluster came free in ${timeoutMs / 1000} s: each of ${paths.length} is held by a running file's process`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An abstract socket's name (Linux: a leading NUL, no file), short whatever the path's length. */
function socketName(path: string): string {
  return `\0drop-test-cluster-${createHash('sha256').update(path).digest('hex').slice(0, 32)}`;
}

/** A server listening on the name, or undefined when another process (or this one) holds it. */
function listenOn(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error),
    );
    server.listen({ path: name }, () => resolve(server));
  });
}
