import { reject } from './failure';
import { gctVersion } from './gct';
import { detectDelimiter, type Delimiter } from './labels';
import { RecordReader } from './records';
import type { InputFile } from './source';
import { readText } from './text-stream';
import type { TextSink } from './utf8-stage';

/** Longest first line the sniffer buffers before giving up on finding a line break. */
const SNIFF_LIMIT = 16 * 1024 * 1024;

/** What the loader knows of a file before parsing it: gzip, GCT or not, its delimiter and header. */
export interface Sniffed {
  file: InputFile;
  gzip: boolean;
  gct: boolean;
  delimiter: Delimiter;
  header: string[];
}

/** Reads just enough of a file to see its first line (GCT) or its header line (tables). */
export async function sniff(file: InputFile): Promise<Sniffed> {
  let text = '';
  let line = '';
  let found = false;
  let lineNo = 0;
  let first = true;
  const take = (final: boolean): boolean => {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0 && !final) break;
      const raw = text.slice(start, nl < 0 ? text.length : nl);
      lineNo++;
      const trimmed = raw.replace(/\r$/, '');
      const isFirst = first;
      first = false;
      if (isFirst && gctVersion(trimmed)) {
        line = trimmed;
        return true;
      }
      if (trimmed.includes('\r')) {
        reject({
          file: file.name,
          line: lineNo,
          expected: 'lines ending in LF or CRLF',
          found: 'lines ending in CR alone (old Mac format); save the file with standard line breaks',
        });
      }
      if (trimmed.trim() !== '' && !trimmed.trimStart().startsWith('#')) {
        line = trimmed;
        return true;
      }
      if (nl < 0) break;
      start = nl + 1;
    }
    text = text.slice(start);
    return false;
  };
  const sink: TextSink = {
    push(chunk) {
      text += chunk;
      if (chunk.includes('\n') && take(false)) {
        found = true;
        return false;
      }
      if (text.length > SNIFF_LIMIT) {
        line = text;
        found = true;
        return false;
      }
      return true;
    },
    end() {
      if (!found && take(true)) found = true;
    },
  };
  const summary = await readText(file, sink);
  if (!found) {
    reject({
      file: file.name,
      expected: 'a table with a header line',
      found: 'an empty file (only blank or comment lines)',
    });
  }
  const gct = gctVersion(line) !== undefined;
  const delimiter: Delimiter = gct ? '\t' : detectDelimiter(line, file.name);
  const header: string[] = [];
  if (!gct) {
    const reader = new RecordReader(file.name, delimiter, (f) => {
      if (header.length === 0) for (let i = 0; i < f.count; i++) header.push(f.text(i));
    });
    reader.push(`${line}\n`);
    reader.end();
  }
  return { file, gzip: summary.gzip, gct, delimiter, header };
}
