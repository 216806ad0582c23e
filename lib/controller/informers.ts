import type { Kube } from '../kube/client.ts';
import { InformerPool } from '../kube/informer.ts';
import { kubeRequestsTotal } from '../metrics.ts';

const pools = new WeakMap<object, InformerPool>();

/**
 * The process's informer pool for this API server connection: one cache per collection, whichever
 * function reads it (the standalone runner hosts all four). Its lists and watches are counted as
 * the function "informers" in drop_kube_requests_total.
 */
export function informers(kube: Kube): InformerPool {
  let pool = pools.get(kube.transport);
  if (!pool) {
    pool = new InformerPool(kube.session('drop', () => kubeRequestsTotal.inc({ function: 'informers' })));
    pools.set(kube.transport, pool);
  }
  return pool;
}
