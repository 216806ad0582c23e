// Go Drop's imageTemplate is a Go text/template over {{.Registry}}, {{.Repository}} and {{.Tag}}.
// Those three fields are all it can name, so substituting them is the whole template language
// here; anything else in {{ }} is refused rather than half-understood.

export const DEFAULT_IMAGE_TEMPLATE = '{{.Registry}}/{{.Repository}}:{{.Tag}}';

const ACTION_RE = /\{\{-?\s*(.*?)\s*-?\}\}/g;
const FIELDS = new Set(['.Registry', '.Repository', '.Tag']);

export type ImageTemplate =
  | {
      readonly ok: true;
      readonly render: (values: { registry: string; repository: string; tag: string }) => string;
    }
  | { readonly ok: false; readonly problem: string };

/** Compiles an imageTemplate, or says which action it cannot fill in. */
export function imageTemplate(template: string = DEFAULT_IMAGE_TEMPLATE): ImageTemplate {
  for (const [, action = ''] of template.matchAll(ACTION_RE))
    if (!FIELDS.has(action))
      return {
        ok: false,
        problem: `imageTemplate: {{${action}}} is not one of {{.Registry}}, {{.Repository}}, {{.Tag}}`,
      };
  return {
    ok: true,
    render: ({ registry, repository, tag }) =>
      template.replace(ACTION_RE, (_, action: string) =>
        action === '.Registry' ? registry : action === '.Repository' ? repository : tag,
      ),
  };
}
