// What the real Knative ApiServerSource adapter (v0.49) sends, recorded at a local HTTP sink: the
// event shapes Drop's functions must accept, and the delivery behaviour docs/design.md §Events relies on.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readSources } from '../../standalone/config-files.ts';
import type { ApiServerSource } from '../controlplane/index.ts';
import { createNodes, deleteNodes, NODE_SET_LABEL, startApiServerSource } from '../controlplane/index.ts';
import { kubeconfigPath, kubectl, loadKubeConfig, uniqueName, waitFor } from './harness.ts';

const CONFIG_DIR = new URL('../../config/', import.meta.url).pathname;

interface Delivery {
  readonly headers: IncomingHttpHeaders;
  readonly data: Record<string, unknown> & { metadata?: { name?: string } };
}

/** A CloudEvents sink on loopback that records every POST and answers with status(delivery). */
class Sink {
  readonly deliveries: Delivery[] = [];
  status: (delivery: Delivery) => number = () => 202;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        const delivery = { headers: req.headers, data: body ? JSON.parse(body) : {} };
        this.deliveries.push(delivery);
        res.writeHead(this.status(delivery)).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Deliveries for one object name, as `type` values in arrival order. */
  typesFor(name: string): string[] {
    return this.deliveries
      .filter((d) => d.headers['ce-name'] === name)
      .map((d) => String(d.headers['ce-type']));
  }

  async waitForType(name: string, type: string, timeoutMs = 10_000): Promise<Delivery> {
    return waitFor(
      () => this.deliveries.find((d) => d.headers['ce-name'] === name && d.headers['ce-type'] === type),
      {
        timeoutMs,
        message: `${type} for ${name}`,
      },
    );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const deleteConfigMaps = (run: string) =>
  kubectl(['delete', 'configmap', '-n', 'default', '-l', `drop.test/run=${run}`, '--ignore-not-found']);

const configMap = (name: string, run: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default', labels: { 'drop.test/run': run } },
  });

describe('ApiServerSource adapter, Resource mode', () => {
  const run = uniqueName('asrc');
  const sink = new Sink();
  const before = `${run}-before`;
  let source: ApiServerSource;

  beforeAll(async () => {
    const url = await sink.start();
    await kubectl(['create', '-f', '-'], { input: configMap(before, run) });
    source = await startApiServerSource({
      kubeconfigPath: kubeconfigPath(),
      sink: url,
      mode: 'Resource',
      resources: [{ apiVersion: 'v1', kind: 'ConfigMap', selector: `drop.test/run=${run}` }],
      namespaces: ['default'],
    });
  });
  afterAll(async () => {
    await source?.stop();
    await sink.stop();
    await deleteConfigMaps(run);
  });

  it('delivers add, update and delete as binary-mode CloudEvents carrying the object', async () => {
    const name = `${run}-new`;
    await kubectl(['create', '-f', '-'], { input: configMap(name, run) });
    await kubectl(['label', 'configmap', name, '-n', 'default', 'changed=yes']);
    await kubectl(['delete', 'configmap', name, '-n', 'default']);
    const deleted = await sink.waitForType(name, 'dev.knative.apiserver.resource.delete');
    expect(sink.typesFor(name)).toEqual([
      'dev.knative.apiserver.resource.add',
      'dev.knative.apiserver.resource.update',
      'dev.knative.apiserver.resource.delete',
    ]);
    const added = await sink.waitForType(name, 'dev.knative.apiserver.resource.add');
    expect(added.headers).toMatchObject({
      'ce-specversion': '1.0',
      'ce-subject': `/apis/v1/namespaces/default/configmaps/${name}`,
      'ce-kind': 'ConfigMap',
      'ce-name': name,
      'ce-namespace': 'default',
      'ce-apiversion': 'v1',
      'content-type': 'application/json',
    });
    expect(added.headers['ce-source']).toBe(loadKubeConfig().getCurrentCluster()?.server);
    expect(added.headers['ce-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(added.data).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    expect(deleted.data.metadata?.name).toBe(name);
  });

  it('sends no add for an object that existed before it started, only its later changes', async () => {
    // Events of one watch arrive in order: once a later object's add is here, an add for the
    // earlier object would have been too.
    const marker = `${run}-marker`;
    await kubectl(['label', 'configmap', before, '-n', 'default', 'touched=yes']);
    await kubectl(['create', '-f', '-'], { input: configMap(marker, run) });
    await sink.waitForType(marker, 'dev.knative.apiserver.resource.add');
    expect(sink.typesFor(before)).toEqual(['dev.knative.apiserver.resource.update']);
  });
});

describe('ApiServerSource adapter, Reference mode', () => {
  const run = uniqueName('aref');
  const sink = new Sink();
  let source: ApiServerSource;
  let nodes: string[] = [];

  beforeAll(async () => {
    const url = await sink.start();
    source = await startApiServerSource({
      kubeconfigPath: kubeconfigPath(),
      sink: url,
      mode: 'Reference',
      resources: [
        { apiVersion: 'v1', kind: 'ConfigMap', selector: `drop.test/run=${run}` },
        { apiVersion: 'v1', kind: 'Node', selector: `${NODE_SET_LABEL}=${run}` },
      ],
      namespaces: ['default'],
    });
  });
  afterAll(async () => {
    await source?.stop();
    await sink.stop();
    await deleteNodes(kubeconfigPath(), nodes);
  });

  it('sends only a reference to the object, for namespaced and cluster-scoped kinds', async () => {
    const name = `${run}-cm`;
    await kubectl(['create', '-f', '-'], { input: configMap(name, run) });
    await kubectl(['delete', 'configmap', name, '-n', 'default']);
    const added = await sink.waitForType(name, 'dev.knative.apiserver.ref.add');
    expect(added.data).toEqual({ kind: 'ConfigMap', namespace: 'default', name, apiVersion: 'v1' });
    await sink.waitForType(name, 'dev.knative.apiserver.ref.delete');

    nodes = await createNodes(1, { kubeconfigPath: kubeconfigPath(), prefix: run, waitReady: false });
    const node = nodes[0] ?? '';
    const nodeAdded = await sink.waitForType(node, 'dev.knative.apiserver.ref.add');
    expect(nodeAdded.headers).toMatchObject({
      'ce-kind': 'Node',
      'ce-namespace': '',
      'ce-subject': `/apis/v1/namespaces//nodes/${node}`,
    });
    expect(nodeAdded.data).toEqual({ kind: 'Node', name: node, apiVersion: 'v1' });
  });
});

describe('ApiServerSource adapter, delivery', () => {
  const run = uniqueName('adlv');
  const sink = new Sink();
  let source: ApiServerSource | undefined;

  afterEach(async () => {
    await source?.stop();
    await sink.stop();
    await deleteConfigMaps(run);
  });

  it('retries an event answered 503 (same id) but not one answered 500', async () => {
    const retried = `${run}-503`;
    const dropped = `${run}-500`;
    const answers = new Map([
      [retried, [503, 503, 202]],
      [dropped, [500, 202]],
    ]);
    sink.status = (d) => answers.get(String(d.headers['ce-name']))?.shift() ?? 202;
    source = await startApiServerSource({
      kubeconfigPath: kubeconfigPath(),
      sink: await sink.start(),
      mode: 'Reference',
      resources: [{ apiVersion: 'v1', kind: 'ConfigMap', selector: `drop.test/run=${run}` }],
      namespaces: ['default'],
    });
    await kubectl(['create', '-f', '-'], { input: configMap(dropped, run) });
    await kubectl(['create', '-f', '-'], { input: configMap(retried, run) });
    await waitFor(() => sink.typesFor(retried).length === 3, {
      timeoutMs: 60_000,
      message: 'three attempts',
    });
    const ids = sink.deliveries
      .filter((d) => d.headers['ce-name'] === retried)
      .map((d) => d.headers['ce-id']);
    expect(new Set(ids).size).toBe(1);
    expect(sink.typesFor(dropped)).toEqual(['dev.knative.apiserver.ref.add']);
  });
});

describe("ApiServerSource adapter, config/reconcile-image's filters", () => {
  const run = uniqueName('afil');
  const sink = new Sink();
  let source: ApiServerSource | undefined;
  let nodes: string[] = [];

  beforeAll(async () => {
    const filters = readSources(CONFIG_DIR, 'drop-system').eventSources.find(
      (s) => s.function === 'reconcile-image',
    )?.filters;
    expect(filters?.length).toBeGreaterThan(0);
    source = await startApiServerSource({
      kubeconfigPath: kubeconfigPath(),
      sink: await sink.start(),
      mode: 'Resource',
      resources: [
        { apiVersion: 'v1', kind: 'ConfigMap', selector: `drop.test/run=${run}` },
        { apiVersion: 'v1', kind: 'Node', selector: `${NODE_SET_LABEL}=${run}` },
      ],
      namespaces: ['default'],
      ...(filters ? { filters } : {}),
    });
  });
  afterAll(async () => {
    await source?.stop();
    await sink.stop();
    await deleteNodes(kubeconfigPath(), nodes);
    await deleteConfigMaps(run);
  });

  it('sends a node joining and leaving but none of its updates, and every change of other kinds', async () => {
    nodes = await createNodes(1, { kubeconfigPath: kubeconfigPath(), prefix: run });
    const node = nodes[0] ?? '';
    // Ready (kwok wrote its status), then labelled and cordoned: three updates at least.
    await kubectl(['label', 'node', node, 'drop.test/changed=yes']);
    await kubectl(['cordon', node]);
    await deleteNodes(kubeconfigPath(), nodes);
    nodes = [];
    // One watch delivers in order: once the delete is here, any update before it would be too.
    await sink.waitForType(node, 'dev.knative.apiserver.resource.delete', 60_000);
    expect(sink.typesFor(node)).toEqual([
      'dev.knative.apiserver.resource.add',
      'dev.knative.apiserver.resource.delete',
    ]);

    const name = `${run}-cm`;
    await kubectl(['create', '-f', '-'], { input: configMap(name, run) });
    await kubectl(['label', 'configmap', name, '-n', 'default', 'changed=yes']);
    await sink.waitForType(name, 'dev.knative.apiserver.resource.update', 60_000);
    expect(sink.typesFor(name)).toEqual([
      'dev.knative.apiserver.resource.add',
      'dev.knative.apiserver.resource.update',
    ]);
  });
});
