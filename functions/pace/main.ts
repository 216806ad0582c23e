import { serveApp } from '../../lib/controller/serve.ts';
import { createKube, dropNamespace, loadKubeConfig } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { createPaceApp, createPacer, FUNCTION } from './index.ts';

const kube = createKube(loadKubeConfig(), FUNCTION);
const namespace = dropNamespace();
const pacer = createPacer({ kube, namespace, log: createLogger({ function: FUNCTION }) });
serveApp(createPaceApp(pacer, { kube, namespace }));
