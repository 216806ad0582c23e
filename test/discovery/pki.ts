// Test certificates made with the openssl CLI (Node cannot issue X.509 certificates): a CA and a
// loopback server certificate it signed, an unrelated CA for the "wrong CA" case, and a
// self-signed certificate whose key signs registry tokens.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  readonly dir: string;
  /** PEM of the CA that signed the server certificate. */
  readonly caPem: string;
  /** PEM of a CA that signed nothing we serve. */
  readonly otherCaPem: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly tokenCertFile: string;
  readonly tokenKeyPem: string;
  readonly tokenCertPem: string;
}

// P-256 keys: generated in milliseconds where RSA takes seconds; ES256 signs the tokens.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function selfSigned(dir: string, name: string, subject: string, ca: boolean): void {
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    subject,
    ...(ca
      ? ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']
      : []),
  ]);
}

/** Writes every certificate into dir (a temp dir the caller removes). */
export function createPki(dir: string): Pki {
  selfSigned(dir, 'ca', '/CN=drop-test-ca', true);
  selfSigned(dir, 'other-ca', '/CN=drop-test-other-ca', true);
  selfSigned(dir, 'token', '/CN=drop-test-token-signer', false);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  openssl(dir, ['req', ...EC_KEY, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  ]);
  return {
    dir,
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    otherCaPem: readFileSync(join(dir, 'other-ca.crt'), 'utf8'),
    serverCertFile: join(dir, 'server.crt'),
    serverKeyFile: join(dir, 'server.key'),
    tokenCertFile: join(dir, 'token.crt'),
    tokenKeyPem: readFileSync(join(dir, 'token.key'), 'utf8'),
    tokenCertPem: readFileSync(join(dir, 'token.crt'), 'utf8'),
  };
}
