import { createKube, dropNamespace, loadKubeConfig } from '../../lib/kube/index.ts';
import { createLogger } from '../../lib/log.ts';
import { serveApp } from '../../lib/serve.ts';
import { createPaceApp, createPacer, FUNCTION } from './index.ts';

const kube = createKube(loadKubeConfig(), FUNCTION);
const namespace = dropNamespace();
const pacer = createPacer({ kube, namespace, log: createLogger({ function: FUNCTION }) });
serveApp(createPaceApp(pacer, { kube, namespace }));
