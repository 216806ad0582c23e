// The real distribution registry (Debian's docker-registry 2.8) on loopback, and pushing minimal
// images to it through its HTTP API: one config blob, one OCI manifest per tag.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { send } from '../../lib/discovery/http.ts';
import { freePorts } from '../controlplane/processes.ts';
import type { Pki } from './pki.ts';
import { bcrypt, type RunningServer, startServer } from './process.ts';

export type RegistryAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'htpasswd'; readonly users: Readonly<Record<string, string>> }
  | {
      readonly kind: 'token';
      readonly realm: string;
      readonly service: string;
      readonly issuer: string;
      readonly rootCertFile: string;
    };

export interface TestRegistry {
  /** http(s)://127.0.0.1:<port> */
  readonly url: string;
  /** 127.0.0.1:<port>, the registry part of its images' references. */
  readonly host: string;
  readonly server: RunningServer;
  readonly logFile: string;
}

function authConfig(dir: string, name: string, auth: RegistryAuth): string[] {
  switch (auth.kind) {
    case 'none':
      return [];
    case 'htpasswd': {
      const file = join(dir, `${name}.htpasswd`);
      writeFileSync(
        file,
        Object.entries(auth.users)
          .map(([user, password]) => `${user}:${bcrypt(password)}\n`)
          .join(''),
      );
      return ['auth:', '  htpasswd:', '    realm: drop-test', `    path: ${file}`];
    }
    case 'token':
      return [
        'auth:',
        '  token:',
        `    realm: ${auth.realm}`,
        `    service: ${auth.service}`,
        `    issuer: ${auth.issuer}`,
        `    rootcertbundle: ${auth.rootCertFile}`,
      ];
  }
}

/**
 * Starts a registry serving `storageDir` (several registries may serve one directory, each with
 * its own auth), over TLS with the test CA's server certificate when `tls` is set.
 */
export async function startRegistry(options: {
  readonly dir: string;
  readonly name: string;
  readonly storageDir: string;
  readonly auth: RegistryAuth;
  readonly tls?: Pki;
  /** Log every request (method and URI) to `<dir>/<name>.log`, for tests of what was asked. */
  readonly accessLog?: boolean;
}): Promise<TestRegistry> {
  const [port] = await freePorts(1);
  const host = `127.0.0.1:${port}`;
  const config = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    `    disabled: ${options.accessLog ? 'false' : 'true'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${options.storageDir}`,
    'http:',
    `  addr: ${host}`,
    `  secret: drop-test-${options.name}`,
    ...(options.tls
      ? ['  tls:', `    certificate: ${options.tls.serverCertFile}`, `    key: ${options.tls.serverKeyFile}`]
      : []),
    ...authConfig(options.dir, options.name, options.auth),
    '',
  ].join('\n');
  const configFile = join(options.dir, `${options.name}.yml`);
  writeFileSync(configFile, config);
  const url = `${options.tls ? 'https' : 'http'}://${host}`;
  const server = await startServer('docker-registry', ['serve', configFile], {
    logFile: join(options.dir, `${options.name}.log`),
    ready: async () => {
      const answer = await send({
        url: new URL('/v2/', url),
        ...(options.tls ? { tls: { ca: options.tls.caPem } } : {}),
        timeoutMs: 2_000,
        maxBytes: 4096,
      });
      return answer.ok && (answer.response.status === 200 || answer.response.status === 401);
    },
  });
  return { url, host, server, logFile: join(options.dir, `${options.name}.log`) };
}

async function check(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${await response.text()}`);
  return response;
}

/**
 * Pushes a minimal image (an OCI config, no layers unless `layers` gives their sizes in bytes)
 * under each tag, in the given order, and returns its manifest digest. A different `variant` makes
 * a different image (config and digest), e.g. to move a tag.
 */
export async function pushImage(
  registryUrl: string,
  repository: string,
  tags: readonly string[],
  options: { readonly layers?: readonly number[]; readonly variant?: string } = {},
): Promise<string> {
  const layers = [];
  for (const [index, bytes] of (options.layers ?? []).entries()) {
    const content = Buffer.alloc(bytes, `${options.variant ?? ''}/${repository}/${index}`);
    layers.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: await pushBlob(registryUrl, repository, content),
      size: bytes,
    });
  }
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    ...(options.variant !== undefined
      ? { config: { Labels: { 'drop.test/variant': options.variant } } }
      : {}),
  });
  const digest = await pushBlob(registryUrl, repository, Buffer.from(config));
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest,
      size: Buffer.byteLength(config),
    },
    layers,
  });
  for (const tag of tags) {
    await check(
      await fetch(new URL(`/v2/${repository}/manifests/${tag}`, registryUrl), {
        method: 'PUT',
        body: manifest,
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      }),
      `push ${repository}:${tag}`,
    );
  }
  return `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
}

/** Uploads one blob (monolithic: POST, then PUT with the digest) and returns its digest. */
async function pushBlob(registryUrl: string, repository: string, content: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  const start = await check(
    await fetch(new URL(`/v2/${repository}/blobs/uploads/`, registryUrl), { method: 'POST' }),
    `start upload to ${repository}`,
  );
  const location = new URL(start.headers.get('location') ?? '', registryUrl);
  location.searchParams.set('digest', digest);
  await check(
    await fetch(location, {
      method: 'PUT',
      body: content,
      headers: { 'content-type': 'application/octet-stream' },
    }),
    `upload blob of ${repository}`,
  );
  return digest;
}

/** The tags exactly as the registry lists them (its own order), for tests to compute expectations. */
export async function rawTags(registryUrl: string, repository: string): Promise<readonly string[]> {
  const response = await check(
    await fetch(new URL(`/v2/${repository}/tags/list`, registryUrl)),
    `list ${repository}`,
  );
  return ((await response.json()) as { tags: string[] }).tags;
}
