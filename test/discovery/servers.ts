// Every real server the discovery tests use, started together: Prometheus with the backfilled
// week (TLS, basic auth) and the registry with the test repositories, anonymous and htpasswd over
// TLS. For suites that need both, e.g. the examples end to end.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_END, EXAMPLE_SERIES, IMAGE_SERIES, REPOSITORIES, STEP_SECONDS, WEEK_SECONDS } from './data.ts';
import { createPki, type Pki } from './pki.ts';
import { ensureDiscoveryServers } from './process.ts';
import { startPrometheus, type TestPrometheus } from './prometheus.ts';
import { pushImage, startRegistry, type TestRegistry } from './registry.ts';

export interface DiscoveryServers {
  readonly pki: Pki;
  readonly prometheus: TestPrometheus;
  /** Plain HTTP, no auth: where the tests push. */
  readonly registry: TestRegistry;
  /** The same storage over TLS (test CA) with htpasswd users. */
  readonly basicRegistry: TestRegistry;
  /** Valid credentials for Prometheus and the htpasswd registry, as Secret stringData. */
  readonly prometheusSecret: Readonly<Record<string, string>>;
  readonly registrySecret: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const USER = 'drop';

/** Installs (if missing) and starts Prometheus and the registry on free loopback ports (about 2 s). */
export async function startDiscoveryServers(
  passwords: { readonly prometheus?: string; readonly registry?: string } = {},
): Promise<DiscoveryServers> {
  ensureDiscoveryServers();
  const dir = mkdtempSync(join(tmpdir(), 'drop-discovery-servers-'));
  const started: { stop(): Promise<void> }[] = [];
  try {
    const pki = createPki(dir);
    const storageDir = join(dir, 'storage');
    mkdirSync(storageDir);
    const promPassword = passwords.prometheus ?? 'prometheus-pw-e2e';
    const registryPassword = passwords.registry ?? 'registry-pw-e2e';
    const prometheus = await startPrometheus({
      dir,
      pki,
      series: [...IMAGE_SERIES, ...EXAMPLE_SERIES],
      end: DATA_END,
      spanSeconds: WEEK_SECONDS + 3600,
      sampleSeconds: STEP_SECONDS,
      password: promPassword,
    });
    started.push(prometheus.server);
    const registry = await startRegistry({ dir, name: 'anonymous', storageDir, auth: { kind: 'none' } });
    started.push(registry.server);
    const basicRegistry = await startRegistry({
      dir,
      name: 'basic',
      storageDir,
      auth: { kind: 'htpasswd', users: { [USER]: registryPassword } },
      tls: pki,
    });
    started.push(basicRegistry.server);
    for (const [repository, tags] of Object.entries(REPOSITORIES))
      await pushImage(registry.url, repository, tags);
    return {
      pki,
      prometheus,
      registry,
      basicRegistry,
      prometheusSecret: { username: prometheus.username, password: promPassword, 'ca.crt': pki.caPem },
      registrySecret: { username: USER, password: registryPassword, 'ca.crt': pki.caPem },
      async stop() {
        await Promise.all(started.map((s) => s.stop()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
