/**
 * docker's --format for lists and for inspect (cli/command/formatter/formatter.go and
 * cli/command/inspect): which template a --format value means, and how its output is laid out.
 *
 *   ""            the verb's default table
 *   "table"       the default table; "table TEMPLATE" a table of that template
 *   "json"        one JSON object per line ({{json .}}), as docker 24+
 *   anything else a template run once per item, each followed by a newline
 *
 * For lists, as docker does, a literal `\t` or `\n` in the value is a tab or newline and the
 * value is trimmed of spaces. A table's header is the same template run over the header
 * names with the string functions passing them through (docker's HeaderFunctions), and the
 * lines go through tabwriter (padding 3). A template that does not parse is docker's
 * "template parsing error: template: :1: ..." (with the column too).
 */
import { goJSON, HEADER_FUNCS, parseTemplate, type Template, TemplateError } from './template.js';
import { tabwrite } from './tabwriter.js';

function parse(source: string): Template {
  try {
    return parseTemplate(source);
  } catch (e) {
    if (e instanceof TemplateError) throw new TemplateError(`template parsing error: ${e.message}`);
    throw e;
  }
}

export interface ListFormatter {
  render(rows: object[], header: object): string;
}

export function listFormatter(format: string | undefined, defaultTable: string): ListFormatter {
  let f = format ?? '';
  if (f === '' || f === 'table') f = `table ${defaultTable}`;
  if (f === 'json') f = '{{json .}}';
  const isTable = f.startsWith('table');
  if (isTable) f = f.slice('table'.length);
  f = f.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const tmpl = parse(f);
  return {
    render(rows, header) {
      const body = rows.map((r) => `${tmpl.execute(r)}\n`).join('');
      if (!isTable) return body;
      return tabwrite(`${tmpl.execute(header, { funcs: HEADER_FUNCS })}\n${body}`);
    },
  };
}

export interface InspectFormatter {
  render(objects: unknown[]): string;
}

/** inspect -f: without a template (or "json"), the indented array; else the template per object. */
export function inspectFormatter(format: string | undefined): InspectFormatter {
  if (format === undefined || format === '' || format === 'json') {
    return { render: (objects) => `${JSON.stringify(objects, null, 4)}\n` };
  }
  const tmpl = parse(format);
  return { render: (objects) => objects.map((o) => `${tmpl.execute(o)}\n`).join('') };
}

export { goJSON };
