import { createKube, dropNamespace, loadKubeConfig } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { serveApp } from '../../lib/serve.ts';
import { createPacer } from '../pace/index.ts';
import { createReconcileImageApp, FUNCTION } from './index.ts';

const kube = createKube(loadKubeConfig(), FUNCTION);
const namespace = dropNamespace();
// Pending nodes are handed to the pacer in-process: it takes the policy's Lease like any pace replica.
const pacer = createPacer({ kube, namespace, log: createLogger({ function: FUNCTION }) });
serveApp(
  createReconcileImageApp({
    kube,
    namespace,
    requestPulls: async (_kube, policy) => void (await pacer.request(policy)),
  }),
);
