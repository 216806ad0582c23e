import { serveApp } from '../../lib/controller/serve.ts';
import { createKube, dropNamespace, loadKubeConfig } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { exportStatusMetrics } from '../../lib/status-metrics.ts';
import { createPaceApp, createPacer, FUNCTION } from './index.ts';

const kube = createKube(loadKubeConfig(), FUNCTION);
const namespace = dropNamespace();
const log = createLogger({ function: FUNCTION });
const pacer = createPacer({ kube, namespace, log });
// pace's /metrics carries the gauges read from status: it is up whenever it paces and at every
// ping (docs/design.md §Metrics).
exportStatusMetrics(kube, log);
serveApp(createPaceApp(pacer, { kube, namespace }));
