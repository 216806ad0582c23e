// What a registry's manifest says, as plain data: its size, an index's entry for the nodes'
// platform, and what an answer that is not the manifest means.
import { z } from 'zod';

/** The media types a pull accepts, as containerd asks for them. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

const descriptor = z.looseObject({ digest: z.string(), size: z.number().int().min(0) });
const manifestSchema = z.looseObject({
  config: descriptor.optional(),
  layers: z.array(descriptor).optional(),
  manifests: z
    .array(
      descriptor.extend({
        platform: z
          .looseObject({ os: z.string().optional(), architecture: z.string().optional() })
          .optional(),
      }),
    )
    .optional(),
});

export type ParsedManifest =
  | { readonly kind: 'image'; readonly size: number }
  | { readonly kind: 'index'; readonly entry: string | undefined }
  | { readonly kind: 'invalid'; readonly message: string };

/**
 * An image manifest's size is what a pull downloads: the config and every layer (containerd sums
 * the same for the kubelet's "Image size"). An index points at one manifest per platform: the one
 * for `platform` (default linux/amd64), else the first.
 */
export function parseManifest(
  body: string,
  platform = { os: 'linux', architecture: 'amd64' },
): ParsedManifest {
  let parsed: z.output<typeof manifestSchema>;
  try {
    const result = manifestSchema.safeParse(JSON.parse(body));
    if (!result.success)
      return { kind: 'invalid', message: 'the manifest has no config, layers or manifests' };
    parsed = result.data;
  } catch {
    return { kind: 'invalid', message: 'the manifest is not JSON' };
  }
  if (parsed.manifests) {
    const entry =
      parsed.manifests.find(
        (m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture,
      ) ?? parsed.manifests[0];
    return { kind: 'index', entry: entry?.digest };
  }
  if (!parsed.config && !parsed.layers)
    return { kind: 'invalid', message: 'the manifest has no config, layers or manifests' };
  const size = (parsed.config?.size ?? 0) + (parsed.layers ?? []).reduce((sum, l) => sum + l.size, 0);
  return { kind: 'image', size };
}

/** Whether a registry's refusal is a rate limit: 429, or Docker Hub's TOOMANYREQUESTS in any status. */
export function isRateLimit(status: number, body: string): boolean {
  return status === 429 || /toomanyrequests/i.test(body);
}
