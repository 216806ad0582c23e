import { serveApp } from '../../lib/controller/serve.ts';
import { createKube, dropNamespace, loadKubeConfig } from '../../lib/kube/index.ts';
import { createReconcileImageApp, FUNCTION } from './index.ts';

const kube = createKube(loadKubeConfig(), FUNCTION);
serveApp(createReconcileImageApp({ kube, namespace: dropNamespace() }));
