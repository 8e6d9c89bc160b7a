/**
 * Go's text/tabwriter as docker's tables use it (minwidth 10, tabwidth 1, padding 3, padchar
 * ' ', no flags): cells end at a tab; a column's width is set over the block of adjacent
 * lines that have a cell there; a line's last cell (no tab after it) is not aligned. A line
 * with no tab ends the block, as tabwriter flushes there.
 */
export interface TabwriterOptions {
  minWidth?: number;
  padding?: number;
}

const width = (s: string) => [...s].length;

export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  let out = '';
  const widths: number[] = [];

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      cells.forEach((c, j) => {
        out += j < widths.length && j < cells.length - 1 ? c + ' '.repeat(Math.max(0, widths[j]! - width(c))) : c;
      });
      if (i < lines.length - 1 || endsWithNewline) out += '\n';
    }
  };

  // Go's Writer.format: recursive over columns, one block of lines per column.
  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let w = minWidth;
      for (; t < line1; t++) {
        const cells = lines[t]!;
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]!) + padding);
      }
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };

  // Flush points: a line of one cell ends what came before it.
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.length === 1) {
      format(start, i + 1);
      start = i + 1;
    }
  }
  format(start, lines.length);
  return out;
}
