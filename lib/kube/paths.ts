/** REST paths of the resources Drop reads and writes. Cluster-scoped kinds have no namespace segment. */
const DROP = '/apis/drop.corewire.io/v1alpha1';

export const paths = {
  cachedImages: () => `${DROP}/cachedimages`,
  cachedImage: (name: string) => `${DROP}/cachedimages/${encodeURIComponent(name)}`,
  cachedImageSets: () => `${DROP}/cachedimagesets`,
  cachedImageSet: (name: string) => `${DROP}/cachedimagesets/${encodeURIComponent(name)}`,
  pullPolicies: () => `${DROP}/pullpolicies`,
  pullPolicy: (name: string) => `${DROP}/pullpolicies/${encodeURIComponent(name)}`,
  discoveryPolicies: () => `${DROP}/discoverypolicies`,
  discoveryPolicy: (name: string) => `${DROP}/discoverypolicies/${encodeURIComponent(name)}`,
  nodes: () => '/api/v1/nodes',
  node: (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`,
  pods: (namespace: string) => `/api/v1/namespaces/${namespace}/pods`,
  pod: (namespace: string, name: string) =>
    `/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(name)}`,
  secret: (namespace: string, name: string) =>
    `/api/v1/namespaces/${namespace}/secrets/${encodeURIComponent(name)}`,
  secrets: (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`,
  leases: (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
  lease: (namespace: string, name: string) =>
    `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${encodeURIComponent(name)}`,
  events: (namespace: string) => `/api/v1/namespaces/${namespace}/events`,
  allEvents: () => '/api/v1/events',
  /** events.k8s.io/v1: the Events API with series (client-go's recorder writes here too). */
  kubeEvents: (namespace: string) => `/apis/events.k8s.io/v1/namespaces/${namespace}/events`,
  /** Whether this client may do something: every authenticated user may ask (system:basic-user). */
  selfSubjectAccessReviews: () => '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
  kubeEvent: (namespace: string, name: string) =>
    `/apis/events.k8s.io/v1/namespaces/${namespace}/events/${encodeURIComponent(name)}`,
} as const;

/** The status subresource of an object path. */
export function statusPath(objectPath: string): string {
  return `${objectPath}/status`;
}
