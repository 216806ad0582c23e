import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface Credentials {
  readonly adminToken: string;
  /** The user `system:kube-controller-manager`, which RBAC's bootstrap policy binds to its ClusterRole. */
  readonly controllerManagerToken: string;
  readonly tokenFile: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
  /** kube-apiserver writes its self-signed serving cert (and the CA that signed it) here. */
  readonly certDir: string;
}

/**
 * The admin token (group system:masters, so RBAC never gets in its way) and the key pair that signs
 * service-account tokens. The serving certificate is left to kube-apiserver (--cert-dir), which
 * writes a CA and a cert for --advertise-address: node:crypto cannot issue X.509 certificates.
 */
export function writeCredentials(pkiDir: string): Credentials {
  const adminToken = randomBytes(24).toString('hex');
  const controllerManagerToken = randomBytes(24).toString('hex');
  const tokenFile = join(pkiDir, 'tokens.csv');
  // The admin stays on the first line: healthyState reads its token from there.
  writeFileSync(
    tokenFile,
    `${adminToken},drop-admin,drop-admin,"system:masters"\n${controllerManagerTokenLine(controllerManagerToken)}`,
    { mode: 0o600 },
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const serviceAccountKey = join(pkiDir, 'sa.key');
  const serviceAccountPublicKey = join(pkiDir, 'sa.pub');
  writeFileSync(serviceAccountKey, privateKey, { mode: 0o600 });
  writeFileSync(serviceAccountPublicKey, publicKey);
  return {
    adminToken,
    controllerManagerToken,
    tokenFile,
    serviceAccountKey,
    serviceAccountPublicKey,
    certDir: join(pkiDir, 'serving'),
  };
}

/**
 * The credentials a previous writeCredentials left in pkiDir, or undefined when there are none
 * (or they are incomplete): a control plane restarted on kept data keeps its tokens and certs.
 */
export function readCredentials(pkiDir: string): Credentials | undefined {
  const tokenFile = join(pkiDir, 'tokens.csv');
  const serviceAccountKey = join(pkiDir, 'sa.key');
  const serviceAccountPublicKey = join(pkiDir, 'sa.pub');
  if (![tokenFile, serviceAccountKey, serviceAccountPublicKey].every((f) => existsSync(f))) return undefined;
  const lines = readFileSync(tokenFile, 'utf8').split('\n');
  const adminToken = lines[0]?.split(',')[0] ?? '';
  if (!adminToken) return undefined;
  let controllerManagerToken = lines
    .find((line) => line.split(',')[1] === CONTROLLER_MANAGER_USER)
    ?.split(',')[0];
  // A sandbox kept from before the controller manager ran: give it its token, keep the rest.
  if (!controllerManagerToken) {
    controllerManagerToken = randomBytes(24).toString('hex');
    appendFileSync(tokenFile, controllerManagerTokenLine(controllerManagerToken));
  }
  return {
    adminToken,
    controllerManagerToken,
    tokenFile,
    serviceAccountKey,
    serviceAccountPublicKey,
    certDir: join(pkiDir, 'serving'),
  };
}

const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';

function controllerManagerTokenLine(token: string): string {
  return `${token},${CONTROLLER_MANAGER_USER},${CONTROLLER_MANAGER_USER}\n`;
}

/** The PEM bundle clients trust: kube-apiserver's generated cert followed by its CA. */
export function servingCaPath(certDir: string): string {
  return join(certDir, 'apiserver.crt');
}

/** A kubeconfig for one user (the admin unless named), with the CA inlined so the file works on its own. */
export function kubeconfigYaml(server: string, caPem: string, token: string, user = 'drop-admin'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'drop',
        cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'drop', context: { cluster: 'drop', user, namespace: 'default' } }],
    'current-context': 'drop',
  });
}

/** GET a path on the API server as admin; resolves with the status code and body. */
export function apiGet(
  server: string,
  caFile: string,
  token: string,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, server),
      { ca: readFileSync(caFile), headers: { authorization: `Bearer ${token}` }, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Whether https://127.0.0.1:<port>/healthz answers 200. For kube-controller-manager, whose serving
 * certificate is one it generated for itself in memory: nothing to verify it against, and the
 * request never leaves loopback.
 */
export function insecureHealthz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 5_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
