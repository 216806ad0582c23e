// What a registry says about an image now: its digest and size, read as a node would read them.
export type { ManifestCheck, ManifestRequest } from './client.ts';
export { checkManifest, registryBase } from './client.ts';
export type { ParsedManifest } from './manifest.ts';
export { isRateLimit, MANIFEST_MEDIA_TYPES, parseManifest } from './manifest.ts';
export type { BasicCredentials } from './pull-secrets.ts';
export { configHost, credentialsForHost } from './pull-secrets.ts';
