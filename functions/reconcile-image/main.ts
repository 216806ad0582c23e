import { createKube, dropNamespace, loadKubeConfig } from '../../lib/kube/index.ts';
import { serveApp } from '../../lib/serve.ts';
import { createReconcileImageApp, FUNCTION } from './index.ts';

const kube = createKube(loadKubeConfig(), FUNCTION);
serveApp(createReconcileImageApp({ kube, namespace: dropNamespace() }));
