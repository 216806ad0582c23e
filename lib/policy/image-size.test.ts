import { describe, expect, it } from 'vitest';
import { formatBytes, sizeLimitOf, sizeProblem } from './image-size.ts';

describe('maxImageSize', () => {
  it('the image’s own limit wins over its policy’s; quantities and plain numbers both read', () => {
    expect(sizeLimitOf('1Ki', { name: 'p', maxImageSize: '2Gi' })).toEqual({
      bytes: 1024,
      text: '1Ki',
      from: 'spec.maxImageSize',
    });
    expect(sizeLimitOf(undefined, { name: 'p', maxImageSize: 5000 })).toEqual({
      bytes: 5000,
      text: '5000',
      from: 'PullPolicy "p"',
    });
    expect(sizeLimitOf(undefined, { name: 'p' })).toBeUndefined();
    expect(sizeLimitOf(undefined, undefined)).toBeUndefined();
  });

  it('refuses only a known size over the limit, and says both', () => {
    const limit = { bytes: 1024, text: '1Ki', from: 'spec.maxImageSize' };
    expect(sizeProblem(limit, 1024, 'r')).toBeUndefined();
    expect(sizeProblem(limit, undefined, 'r')).toBeUndefined();
    expect(sizeProblem(undefined, 10 ** 12, 'r')).toBeUndefined();
    expect(sizeProblem(limit, 3104, 'h/team/app:1.0')).toEqual({
      reason: 'ImageTooLarge',
      message:
        'h/team/app:1.0 is 3.0 KiB (3104 bytes, as its registry lists the manifest), over maxImageSize 1Ki (spec.maxImageSize)',
    });
  });

  it('formats bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(300 * 2 ** 20)).toBe('300 MiB');
    expect(formatBytes(2.5 * 2 ** 30)).toBe('2.5 GiB');
  });
});
