import { describe, expect, it } from 'vitest';
import { imageTemplate } from './image-template.ts';

describe('imageTemplate', () => {
  const values = { registry: 'registry.gitlab.com', repository: 'gitlab-org/helper', tag: 'x86_64-v17.10.0' };

  it('renders Go Drop’s default and a custom template', () => {
    const fallback = imageTemplate();
    const mirror = imageTemplate('mirror.example.com/{{ .Repository }}:{{.Tag}}');
    if (!fallback.ok || !mirror.ok) throw new Error('templates should compile');
    expect(fallback.render(values)).toBe('registry.gitlab.com/gitlab-org/helper:x86_64-v17.10.0');
    expect(mirror.render(values)).toBe('mirror.example.com/gitlab-org/helper:x86_64-v17.10.0');
  });

  it('refuses anything but the three fields', () => {
    expect(imageTemplate('{{.Registry}}/{{ printf "%s" .Tag }}')).toEqual({
      ok: false,
      problem: 'imageTemplate: {{printf "%s" .Tag}} is not one of {{.Registry}}, {{.Repository}}, {{.Tag}}',
    });
  });
});
