// Asks the image's registry about its reference, with the image's pull secrets (read from the Drop
// namespace), and records the answer as status.manifest.
import type { CachedImage, ManifestRecord } from '../../lib/api/index.ts';
import { parseImageReference } from '../../lib/image-ref.ts';
import { type Kube, type KubeObject, paths } from '../../lib/kube/index.ts';
import { checkManifest, credentialsForHost } from '../../lib/registry/index.ts';

type Secret = KubeObject & { readonly data?: Readonly<Record<string, string>> };

export async function askManifest(
  kube: Kube,
  namespace: string,
  image: CachedImage,
  reference: string,
  now: Date,
  size = true,
): Promise<ManifestRecord> {
  const checkedAt = now.toISOString();
  const parsed = parseImageReference(reference);
  if (!parsed.ok) return { reference, checkedAt, error: parsed.message };
  const secrets = await Promise.all(
    (image.spec?.imagePullSecrets ?? []).map((s) =>
      kube.get<Secret>(paths.secret(namespace, s.name)).catch(() => undefined),
    ),
  );
  const credentials = credentialsForHost(
    secrets.map((s) => s?.data),
    parsed.ref.registry,
  );
  const answer = await checkManifest({
    ref: parsed.ref,
    ...(credentials ? { credentials } : {}),
    size,
    now,
  });
  if (!answer.ok) return { reference, checkedAt, error: `${answer.reason}: ${answer.message}` };
  return {
    reference,
    digest: answer.digest,
    ...(answer.size !== undefined ? { size: answer.size } : {}),
    checkedAt,
  };
}
