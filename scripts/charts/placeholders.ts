// Helm templates written through the yaml library: the manifests of config/ are edited as YAML
// documents (comments kept), with a token wherever template text must go, and the tokens are
// replaced after stringifying. Two kinds: an inline token stands for a value (`image: <token>`), a
// line token for whole lines at the indentation it was printed at (a map key or a sequence item).

const TOKEN = /__drop_(\d+)__/;

type Lines = (indent: string) => readonly string[];

export class Placeholders {
  private readonly inline: string[] = [];
  private readonly lines: Lines[] = [];

  /** A token for a value, replaced by `text` as it is. */
  value(text: string): string {
    this.inline.push(text);
    return `__drop_${this.inline.length - 1}__`;
  }

  /** A token for a map key or a sequence item, replaced by whole lines at its indentation. */
  block(lines: Lines): string {
    this.lines.push(lines);
    return `__drop_b${this.lines.length - 1}__`;
  }

  /** The YAML text with every token replaced; throws on a token it did not hand out. */
  fill(text: string): string {
    const withBlocks = text.replace(
      /^( *)(- )?__drop_b(\d+)__(?::.*)?$/gm,
      // A sequence item's lines start where its dash is, a key's where the key is.
      (_line, indent: string, _item: string | undefined, index: string) => {
        const lines = this.lines[Number(index)];
        if (!lines) throw new Error(`unknown block token ${index}`);
        return lines(indent).join('\n');
      },
    );
    const filled = withBlocks.replace(new RegExp(TOKEN.source, 'g'), (_token, index: string) => {
      const text = this.inline[Number(index)];
      if (text === undefined) throw new Error(`unknown token ${index}`);
      return text;
    });
    if (/__drop_/.test(filled)) throw new Error(`a token was left in:\n${filled}`);
    return filled;
  }
}
