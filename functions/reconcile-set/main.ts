import { serveApp } from '../../lib/controller/serve.ts';
import { createKube, loadKubeConfig } from '../../lib/kube/index.ts';
import { createReconcileSetApp, FUNCTION } from './index.ts';

serveApp(createReconcileSetApp({ kube: createKube(loadKubeConfig(), FUNCTION) }));
