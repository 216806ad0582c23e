export {
  createKube,
  type JsonPatchOp,
  Kube,
  type KubeObject,
  type ObjectList,
  type ObjectMeta,
  type OwnerReference,
} from './client.ts';
export { dropNamespace, loadKubeConfig } from './config.ts';
export type { ContainerStatus, Node, Pod, PodSpec, Taint, Toleration } from './core.ts';
export { KubeError, type KubeErrorKind } from './errors.ts';
export { labelValue } from './labels.ts';
export { paths, statusPath } from './paths.ts';
export { runWatch, type WatchAction, type WatchTarget } from './watch.ts';
