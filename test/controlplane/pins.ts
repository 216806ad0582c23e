import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Go modules that pin every control-plane version (see build/go.mod). */
export const BUILD_DIR = new URL('./build/', import.meta.url).pathname;
const KWOK_DIR = join(BUILD_DIR, 'kwok');
/** Helm in its own module graph too: helm v4.3 needs client-go 0.37. */
const HELM_DIR = join(BUILD_DIR, 'helm');
/** Pins the Knative Serving release whose CRDs validate config/ (YAML only, nothing is built). */
export const KNATIVE_DIR = join(BUILD_DIR, 'knative');

export type BinaryName =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kubectl'
  | 'kwok'
  | 'apiserver_receive_adapter'
  | 'helm';

export interface BinaryTarget {
  readonly name: BinaryName;
  /** The Go package with the `main` to build. */
  readonly pkg: string;
  /** The module directory `go build` runs in: it decides the dependency versions. */
  readonly moduleDir: string;
  readonly ldflags: string;
  /** Human-readable pinned version, for progress output. */
  readonly version: string;
}

export interface Pins {
  readonly kubernetes: string;
  readonly etcd: string;
  readonly eventing: string;
  readonly kwok: string;
  readonly serving: string;
  readonly helm: string;
}

/** The versions pinned in build/go.mod and build/{kwok,knative,helm}/go.mod. */
export function readPins(): Pins {
  const main = readFileSync(join(BUILD_DIR, 'go.mod'), 'utf8');
  const kwok = readFileSync(join(KWOK_DIR, 'go.mod'), 'utf8');
  const knative = readFileSync(join(KNATIVE_DIR, 'go.mod'), 'utf8');
  const helm = readFileSync(join(HELM_DIR, 'go.mod'), 'utf8');
  return {
    kubernetes: requiredVersion(main, 'k8s.io/kubernetes'),
    etcd: requiredVersion(main, 'go.etcd.io/etcd/server/v3'),
    eventing: requiredVersion(main, 'knative.dev/eventing'),
    kwok: requiredVersion(kwok, 'sigs.k8s.io/kwok'),
    serving: requiredVersion(knative, 'knative.dev/serving'),
    helm: requiredVersion(helm, 'helm.sh/helm/v4'),
  };
}

function requiredVersion(goMod: string, module: string): string {
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const match = goMod.match(new RegExp(`^[ \\t]*(?:require[ \\t]+)?${escaped}[ \\t]+(v\\S+)`, 'm'));
  if (!match?.[1]) throw new Error(`go.mod does not require ${module}`);
  return match[1];
}

/**
 * Without these, kube-apiserver's /version says v0.0.0-master and clients that check the server
 * version (Knative's sharedmain, kubectl's skew warning) misbehave.
 */
export function kubernetesLdflags(kubernetesVersion: string): string {
  const [major, minor] = kubernetesVersion.replace(/^v/, '').split('.');
  return [
    '-s -w',
    `-X k8s.io/component-base/version.gitVersion=${kubernetesVersion}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    `-X k8s.io/client-go/pkg/version.gitVersion=${kubernetesVersion}`,
  ].join(' ');
}

/** As Helm's Makefile sets them for a release, so `helm version` says the pinned version. */
export function helmLdflags(helmVersion: string): string {
  return [
    '-s -w',
    `-X helm.sh/helm/v4/internal/version.version=${helmVersion}`,
    '-X helm.sh/helm/v4/internal/version.metadata=',
    '-X helm.sh/helm/v4/internal/version.gitTreeState=clean',
  ].join(' ');
}

/** What to build, in the order it is built (the first one pays for most of the shared packages). */
export function binaryTargets(pins: Pins = readPins()): readonly BinaryTarget[] {
  const ldflags = kubernetesLdflags(pins.kubernetes);
  const main = (name: BinaryName, pkg: string, version: string): BinaryTarget => ({
    name,
    pkg,
    version,
    moduleDir: BUILD_DIR,
    ldflags,
  });
  return [
    main('kube-apiserver', 'k8s.io/kubernetes/cmd/kube-apiserver', pins.kubernetes),
    main('kube-controller-manager', 'k8s.io/kubernetes/cmd/kube-controller-manager', pins.kubernetes),
    main('kubectl', 'k8s.io/kubernetes/cmd/kubectl', pins.kubernetes),
    main('etcd', 'go.etcd.io/etcd/server/v3', pins.etcd),
    main('apiserver_receive_adapter', 'knative.dev/eventing/cmd/apiserver_receive_adapter', pins.eventing),
    {
      name: 'kwok',
      pkg: 'sigs.k8s.io/kwok/cmd/kwok',
      version: pins.kwok,
      moduleDir: KWOK_DIR,
      ldflags: '-s -w',
    },
    {
      name: 'helm',
      pkg: 'helm.sh/helm/v4/cmd/helm',
      version: pins.helm,
      moduleDir: HELM_DIR,
      ldflags: helmLdflags(pins.helm),
    },
  ];
}

/** `~/.cache/drop/controlplane` unless DROP_CACHE_DIR says otherwise (XDG_CACHE_HOME is honoured). */
export function cacheRoot(): string {
  if (process.env.DROP_CACHE_DIR) return join(process.env.DROP_CACHE_DIR, 'controlplane');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'drop', 'controlplane');
}

/** A change to any pin or build flag gives a new directory, so a stale binary is never reused. */
export function buildKey(targets: readonly BinaryTarget[] = binaryTargets()): string {
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'go.sum', 'kwok/go.mod', 'kwok/go.sum', 'helm/go.mod', 'helm/go.sum']) {
    hash.update(file).update(readFileSync(join(BUILD_DIR, file)));
  }
  for (const t of targets) hash.update(`${t.name} ${t.pkg} ${t.ldflags}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** Where the binaries for the current pins live. */
export function binDir(): string {
  return join(cacheRoot(), buildKey(), 'bin');
}

/** The path of one pinned binary (it may not be built yet; see ensureBinaries). */
export function binaryPath(name: BinaryName): string {
  return join(binDir(), name);
}

/** The pinned helm. */
export function helmPath(): string {
  return binaryPath('helm');
}

/** The pinned kubectl. */
export function kubectlPath(): string {
  return binaryPath('kubectl');
}
