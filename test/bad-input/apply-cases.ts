// The bad-input table, part 1: what `kubectl apply` refuses, with the message a person reads.
// docs/bad-input.md lists every case by its name; test/integration/bad-input.test.ts applies each
// to the real API server (server-side dry run) and checks the message.

export interface ApplyCase {
  /** The row's name in docs/bad-input.md. */
  readonly name: string;
  readonly kind: 'CachedImage' | 'CachedImageSet' | 'PullPolicy' | 'DiscoveryPolicy';
  readonly spec: Record<string, unknown>;
  /** What kubectl prints (stderr), in part. */
  readonly message: RegExp;
}

const image = { image: 'docker.io/library/nginx', tag: '1.25-alpine' };
const registrySource = (registry: Record<string, unknown>) => ({
  sources: [
    { type: 'registry', registry: { url: 'https://registry.example', repositories: ['app'], ...registry } },
  ],
});

export const APPLY_CASES: readonly ApplyCase[] = [
  // Images, tags, digests
  {
    name: 'image with a tag in it',
    kind: 'CachedImage',
    spec: { image: 'docker.io/library/nginx:1.25' },
    message: /image must not contain a tag: put it in tag/,
  },
  {
    name: 'image with a digest in it',
    kind: 'CachedImage',
    spec: { image: `docker.io/library/nginx@sha256:${'a'.repeat(64)}` },
    message: /image must not contain a digest: put it in digest/,
  },
  {
    name: 'image with upper-case path',
    kind: 'CachedImage',
    spec: { image: 'registry.example/Team/App' },
    message:
      /image must be a repository name: an optional registry host\[:port\]\/ and lowercase path components/,
  },
  {
    name: 'empty image',
    kind: 'CachedImage',
    spec: { image: '' },
    message: /spec.image: Invalid value: "": spec.image in body should be at least 1 chars long/,
  },
  {
    name: 'no image at all',
    kind: 'CachedImage',
    spec: { tag: 'v1' },
    message: /spec.image: Required value/,
  },
  {
    name: 'tag with a space',
    kind: 'CachedImage',
    spec: { image: 'docker.io/library/nginx', tag: '1.25 alpine' },
    message: /"1.25 alpine" is not a tag: 1-128 letters, digits, _ . - that does not start with . or -/,
  },
  {
    name: 'tag starting with a dot',
    kind: 'CachedImage',
    spec: { image: 'docker.io/library/nginx', tag: '.hidden' },
    message: /".hidden" is not a tag/,
  },
  {
    name: 'tag longer than 128 characters',
    kind: 'CachedImage',
    spec: { image: 'docker.io/library/nginx', tag: 'a'.repeat(129) },
    message: /spec.tag: Too long: may not be more than 128 bytes/,
  },
  {
    name: 'tag and digest both',
    kind: 'CachedImage',
    spec: { image: 'docker.io/library/nginx', tag: 'v1', digest: `sha256:${'b'.repeat(64)}` },
    message: /tag and digest are mutually exclusive: set one of them \(neither means latest\)/,
  },
  {
    name: 'digest too short',
    kind: 'CachedImage',
    spec: { image: 'docker.io/library/nginx', digest: 'sha256:abc' },
    message: /"sha256:abc" is not a digest: sha256: followed by 64 lowercase hex digits/,
  },
  {
    name: 'digest in upper-case hex',
    kind: 'CachedImage',
    spec: { image: 'docker.io/library/nginx', digest: `sha256:${'A'.repeat(64)}` },
    message: /is not a digest: sha256: followed by 64 lowercase hex digits/,
  },
  {
    name: 'digest of another algorithm',
    kind: 'CachedImage',
    spec: { image: 'docker.io/library/nginx', digest: `md5:${'c'.repeat(32)}` },
    message: /is not a digest/,
  },
  {
    name: 'unknown imagePullPolicy',
    kind: 'CachedImage',
    spec: { ...image, imagePullPolicy: 'Sometimes' },
    message: /Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"/,
  },
  {
    name: 'priority that is not a whole number',
    kind: 'CachedImage',
    spec: { ...image, priority: 'high' },
    message: /spec.priority: Invalid value: "string": spec.priority in body must be of type integer/,
  },
  {
    name: 'a misspelt field',
    kind: 'CachedImage',
    spec: { ...image, nodeSelecter: { a: 'b' } },
    message: /unknown field "spec.nodeSelecter"/,
  },
  // Label keys, values and selectors
  {
    name: 'nodeSelector key with a space',
    kind: 'CachedImage',
    spec: { ...image, nodeSelector: { 'node role': 'build' } },
    message: /"node role" is not a valid label key: a label key is an optional DNS subdomain prefix/,
  },
  {
    name: 'nodeSelector key with two slashes',
    kind: 'CachedImage',
    spec: { ...image, nodeSelector: { 'a/b/c': 'x' } },
    message: /"a\/b\/c" is not a valid label key/,
  },
  {
    name: 'nodeSelector key with an upper-case prefix',
    kind: 'CachedImage',
    spec: { ...image, nodeSelector: { 'Example.com/role': 'x' } },
    message: /"Example.com\/role" is not a valid label key/,
  },
  {
    name: 'nodeSelector value with a space',
    kind: 'CachedImage',
    spec: { ...image, nodeSelector: { role: 'build node' } },
    message: /the value "build node" of label "role" is not a valid label value/,
  },
  {
    name: 'nodeSelector value longer than 63 characters',
    kind: 'CachedImage',
    spec: { ...image, nodeSelector: { role: 'a'.repeat(64) } },
    message: /Too long: may not be more than 63 bytes/,
  },
  {
    name: 'CachedImageSet nodeSelector key that is no label key',
    kind: 'CachedImageSet',
    spec: { images: [image], nodeSelector: { 'pool!': 'ci' } },
    message: /"pool!" is not a valid label key/,
  },
  {
    name: 'node selector requirement with a bad key',
    kind: 'DiscoveryPolicy',
    spec: {
      ...registrySource({}),
      ranking: {
        strategy: 'modelExposure',
        modelExposure: {
          preWindowUsageSignal: 'pre',
          targetWindowUsageSignal: 'target',
          pullTimeSignal: 'pull',
          nodes: {
            selector: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'bad key', operator: 'Exists' }] }] },
          },
        },
      },
    },
    message: /"bad key" is not a valid label key/,
  },
  // Tolerations
  {
    name: 'toleration key with a space',
    kind: 'CachedImage',
    spec: { ...image, tolerations: [{ key: 'dedicated node', operator: 'Exists' }] },
    message: /"dedicated node" is not a valid label key/,
  },
  {
    name: 'toleration with operator Exists and a value',
    kind: 'CachedImage',
    spec: { ...image, tolerations: [{ key: 'dedicated', operator: 'Exists', value: 'ci' }] },
    message: /a toleration with operator Exists must not have a value/,
  },
  {
    name: 'toleration without a key and with operator Equal',
    kind: 'CachedImage',
    spec: { ...image, tolerations: [{ operator: 'Equal', value: 'ci' }] },
    message: /a toleration without a key must use operator Exists/,
  },
  {
    name: 'toleration with an unknown operator',
    kind: 'CachedImage',
    spec: { ...image, tolerations: [{ key: 'dedicated', operator: 'Equals', value: 'ci' }] },
    message: /Unsupported value: "Equals": supported values: "Exists", "Equal"/,
  },
  {
    name: 'toleration with an unknown effect',
    kind: 'CachedImage',
    spec: { ...image, tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoRun' }] },
    message: /Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"/,
  },
  {
    name: 'tolerationSeconds without effect NoExecute',
    kind: 'CachedImage',
    spec: { ...image, tolerations: [{ key: 'dedicated', operator: 'Exists', tolerationSeconds: 60 }] },
    message: /tolerationSeconds needs effect NoExecute/,
  },
  // Secret and object references
  {
    name: 'imagePullSecrets entry without a name',
    kind: 'CachedImage',
    spec: { ...image, imagePullSecrets: [{}] },
    message: /spec.imagePullSecrets\[0\].name: Required value/,
  },
  {
    name: 'imagePullSecrets name that is no object name',
    kind: 'CachedImage',
    spec: { ...image, imagePullSecrets: [{ name: 'My_Secret' }] },
    message: /"My_Secret" is not an object name: lowercase letters, digits/,
  },
  {
    name: 'policyRef name that is no object name',
    kind: 'CachedImage',
    spec: { ...image, policyRef: { name: 'Fast Policy' } },
    message: /"Fast Policy" is not an object name/,
  },
  {
    name: 'discovery secretRef name that is no object name',
    kind: 'DiscoveryPolicy',
    spec: {
      sources: [
        {
          type: 'registry',
          registry: { url: 'https://registry.example', repositories: ['app'] },
          secretRef: { name: 'creds!' },
        },
      ],
    },
    message: /"creds!" is not an object name/,
  },
  // Durations and numbers
  {
    name: 'duration in words',
    kind: 'PullPolicy',
    spec: { minDelayBetweenPulls: '5 minutes' },
    message: /"5 minutes" is not a Go duration: a number and a unit \(ns, us, ms, s, m, h\)/,
  },
  {
    name: 'duration in days',
    kind: 'PullPolicy',
    spec: { repullInterval: '7d' },
    message: /"7d" is not a Go duration: .*no days/,
  },
  {
    name: 'negative duration',
    kind: 'PullPolicy',
    spec: { failureBackoff: { initial: '-30s' } },
    message: /"-30s" is not a Go duration: .*no sign/,
  },
  {
    name: 'duration without a unit',
    kind: 'DiscoveryPolicy',
    spec: { syncInterval: '30', ...registrySource({}) },
    message: /"30" is not a Go duration/,
  },
  {
    name: 'newNodeWindow in words',
    kind: 'PullPolicy',
    spec: { newNodeWindow: 'fifteen minutes' },
    message: /spec\.newNodeWindow: Invalid value: "fifteen minutes": "fifteen minutes" is not a Go duration/,
  },
  {
    name: 'negative newNodeWindow',
    kind: 'PullPolicy',
    spec: { newNodeWindow: '-15m' },
    message: /spec\.newNodeWindow: Invalid value: "-15m": "-15m" is not a Go duration: .*no sign/,
  },
  {
    name: 'imageProbeInterval in days',
    kind: 'PullPolicy',
    spec: { imageProbeInterval: '1d' },
    message: /spec\.imageProbeInterval: Invalid value: "1d": "1d" is not a Go duration: .*no days/,
  },
  {
    name: 'failureBackoff.initial longer than max',
    kind: 'PullPolicy',
    spec: { failureBackoff: { initial: '10m', max: '1m' } },
    message: /failureBackoff.initial must not be longer than failureBackoff.max/,
  },
  {
    name: 'maxConcurrentNodes of 0',
    kind: 'PullPolicy',
    spec: { maxConcurrentNodes: 0 },
    message: /spec.maxConcurrentNodes in body should be greater than or equal to 1/,
  },
  {
    name: 'maxConcurrentPulls as text',
    kind: 'PullPolicy',
    spec: { maxConcurrentPulls: 'ten' },
    message: /spec.maxConcurrentPulls in body must be of type integer/,
  },
  // startupTaint
  {
    name: 'startupTaint without a key',
    kind: 'PullPolicy',
    spec: { startupTaint: { effect: 'NoSchedule' } },
    message: /spec\.startupTaint\.key: Required value/,
  },
  {
    name: 'startupTaint key with a space',
    kind: 'PullPolicy',
    spec: { startupTaint: { key: 'drop warming' } },
    message:
      /spec\.startupTaint\.key: Invalid value: "drop warming": "drop warming" is not a valid label key/,
  },
  {
    name: 'startupTaint with effect PreferNoSchedule',
    kind: 'PullPolicy',
    spec: { startupTaint: { key: 'drop.corewire.io/warming', effect: 'PreferNoSchedule' } },
    message:
      /spec\.startupTaint\.effect: Unsupported value: "PreferNoSchedule": supported values: "NoSchedule", "NoExecute"/,
  },
  {
    name: 'startupTaint timeout in days',
    kind: 'PullPolicy',
    spec: { startupTaint: { key: 'drop.corewire.io/warming', timeout: '1d' } },
    message: /spec\.startupTaint\.timeout: Invalid value: "1d": "1d" is not a Go duration: .*no days/,
  },
  // URLs and discovery sources
  {
    name: 'registry URL without a scheme',
    kind: 'DiscoveryPolicy',
    spec: registrySource({ url: 'registry.example' }),
    message: /"registry.example" is not an http:\/\/ or https:\/\/ URL with a host/,
  },
  {
    name: 'Prometheus endpoint with another scheme',
    kind: 'DiscoveryPolicy',
    spec: { sources: [{ type: 'prometheus', prometheus: { endpoint: 'ftp://prom.example', query: 'up' } }] },
    message: /"ftp:\/\/prom.example" is not an http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'DiscoveryPolicy with no source',
    kind: 'DiscoveryPolicy',
    spec: { sources: [] },
    message: /spec.sources: Invalid value: 0: spec.sources in body should have at least 1 items/,
  },
  {
    name: 'registry source with topX of 0',
    kind: 'DiscoveryPolicy',
    spec: registrySource({ topX: 0 }),
    message: /topX in body should be greater than or equal to 1/,
  },
  {
    name: 'source of an unknown type',
    kind: 'DiscoveryPolicy',
    spec: { sources: [{ type: 'dockerhub' }] },
    message: /Unsupported value: "dockerhub"/,
  },
];
