// Which credentials a node's kubelet would send to a registry host, from the image's pull secrets
// (kubernetes.io/dockerconfigjson, or the older kubernetes.io/dockercfg), as the kubelet's
// credential keyring matches them (pkg/credentialprovider: the host, with or without scheme and path).

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

// Docker Hub is written many ways in config files; every one of them means the same registry.
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** `https://index.docker.io/v1/` → `docker.io`; `registry.example:5000/path` → `registry.example:5000`. */
export function configHost(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}

type Entry = { readonly username?: string; readonly password?: string; readonly auth?: string };

/**
 * The first credentials for `host` in the Secrets' data (base64 values as the API returns them), in
 * the order the image lists its pull secrets. Undefined: pull anonymously.
 */
export function credentialsForHost(
  secrets: readonly (Readonly<Record<string, string>> | undefined)[],
  host: string,
): BasicCredentials | undefined {
  const wanted = configHost(host);
  for (const data of secrets) {
    for (const [key, entry] of entriesOf(data ?? {})) {
      if (configHost(key) !== wanted) continue;
      const found = basicOf(entry);
      if (found) return found;
    }
  }
  return undefined;
}

function entriesOf(data: Readonly<Record<string, string>>): [string, Entry][] {
  const decode = (key: string) => {
    const encoded = data[key];
    if (encoded === undefined) return undefined;
    try {
      return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  };
  const config = decode('.dockerconfigjson') as { auths?: Record<string, Entry> } | undefined;
  if (config?.auths && typeof config.auths === 'object') return Object.entries(config.auths);
  const legacy = decode('.dockercfg') as Record<string, Entry> | undefined;
  return legacy && typeof legacy === 'object' ? Object.entries(legacy) : [];
}

function basicOf(entry: Entry): BasicCredentials | undefined {
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username)
    return { username: entry.username, password: entry.password };
  if (typeof entry.auth !== 'string') return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}
