// Drop as the chaos suite runs it, through the bench's launcher (bench/drop-processes.ts):
// `replicas` — two standalone runners with leader election, as the chart runs replicaCount 2 — or
// `functions` — the four functions, each fed by the real ApiServerSource adapter through the event
// proxy, with PingSource's ticks on config/'s schedule. Every line Drop writes goes to the watcher.
import { type Running, startBundle, startShape } from '../../bench/drop-processes.ts';
import type { Lease } from '../../lib/controller/lease-holder.ts';
import type { Kube } from '../../lib/kube/index.ts';
import { paths } from '../../lib/kube/index.ts';
import { LEADER_LEASE } from '../../standalone/leader.ts';
import { NAMESPACE } from './workload.ts';

export type FleetShape = 'replicas' | 'functions';

export interface FleetOptions {
  /** Drop's kubeconfig. */
  readonly kubeconfigPath: string;
  /** The adapters' (the real API server's). */
  readonly adapterKubeconfigPath: string;
  readonly onLine: (process: string, line: string) => void;
  /** Where a function's events go (the event proxy in front of it). */
  readonly sinkFor?: (fn: string, url: string) => Promise<string>;
}

export class DropFleet {
  shape: FleetShape | undefined;
  running: Running[] = [];
  #pings: NodeJS.Timeout | undefined;

  constructor(
    private readonly kube: Kube,
    private readonly options: FleetOptions,
  ) {}

  /** Runs Drop in `shape` (restarting it when it ran in another). */
  async ensure(shape: FleetShape): Promise<void> {
    if (this.shape === shape && this.running.every((r) => r.child.exitCode === null && !r.child.signalCode))
      return;
    await this.stop();
    this.shape = shape;
    if (shape === 'replicas') {
      this.running = [await this.replica('standalone-a'), await this.replica('standalone-b')];
    } else {
      this.running = await startShape('functions', {
        kubeconfigPath: this.options.kubeconfigPath,
        adapterKubeconfigPath: this.options.adapterKubeconfigPath,
        onLine: this.options.onLine,
        env: { DROP_LOG_LEVEL: logLevel() },
        ...(this.options.sinkFor ? { sinkFor: this.options.sinkFor } : {}),
      });
      this.#schedulePings();
    }
  }

  /** One standalone replica with leader election (its logs say which replica it is). */
  async replica(name: string): Promise<Running> {
    const running = await startBundle('standalone', {
      kubeconfigPath: this.options.kubeconfigPath,
      onLine: (_, line) => this.options.onLine(name, line),
      env: { DROP_LOG_LEVEL: logLevel(), DROP_LEADER_ELECTION: 'true' },
    });
    return { ...running, name };
  }

  /** The replica holding the leader Lease (its identity carries the pid). */
  async leader(): Promise<Running | undefined> {
    const lease = await this.kube.get<Lease>(paths.lease(NAMESPACE, LEADER_LEASE));
    const holder = lease?.spec?.holderIdentity ?? '';
    return this.running.find((r) => holder.includes(`-${r.child.pid}-`));
  }

  /** kill -9 of one process; resolves once it is gone. */
  async kill(process: Running): Promise<void> {
    const gone = new Promise((resolve) => process.child.once('exit', resolve));
    process.child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    if (this.#pings) clearTimeout(this.#pings);
    this.#pings = undefined;
    await Promise.all(this.running.map((r) => r.stop()));
    this.running = [];
    this.shape = undefined;
  }

  // PingSource's `*/5 * * * *`: a tick to every function at each five minutes of the clock.
  #schedulePings(): void {
    const every = 5 * 60_000;
    const tick = () => {
      for (const r of this.running) void sendPing(r.port);
      this.#pings = setTimeout(tick, every - (Date.now() % every));
    };
    this.#pings = setTimeout(tick, every - (Date.now() % every));
  }
}

async function sendPing(port: number): Promise<void> {
  await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': crypto.randomUUID(),
      'ce-source': `/apis/v1/namespaces/${NAMESPACE}/pingsources/drop-resync`,
      'ce-type': 'dev.knative.sources.ping',
      'content-type': 'application/json',
    },
    body: '{"resync":true}',
  }).catch(() => undefined);
}

/** Drop's log level in the suite: info, or CHAOS_DROP_LOG_LEVEL (debug shows every pace round). */
function logLevel(): string {
  return process.env.CHAOS_DROP_LOG_LEVEL || 'info';
}
