// The gallery of docs/viewer.md is complete and honest: every example of examples/README.md has a
// committed trace, a picture and a section, and its trace holds the program's notes unless its
// section says why there are none.
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { parseTrace } from 'dsmpi';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const examples = [...read('examples/README.md').matchAll(/^\| `([\w-]+)\.ts`/gm)].map((m) => m[1]);
const doc = read('docs/viewer.md');
/** The text of the gallery section of an example, up to the next heading. */
const section = (name: string): string | undefined => new RegExp(`^### ${name}\\n([^#]*)`, 'm').exec(doc)?.[1];

t.ok(examples.length > 30, `${examples.length} examples listed`);
for (const name of examples) {
  t.test(name, async (t) => {
    const text = section(name);
    t.ok(text, 'has a section in docs/viewer.md');
    t.match(text ?? '', `![${name}](viewer/${name}.png)`, 'with its picture');
    t.ok(existsSync(new URL(`docs/viewer/${name}.png`, root)), 'the picture is committed');
    const events = parseTrace(read(`docs/viewer/traces/${name}.jsonl`));
    t.ok(
      events.some((e) => e.ev === 'send'),
      'its trace has messages',
    );
    const notes = events.filter((e) => e.ev === 'note').length;
    if (notes > 0) t.notMatch(text ?? '', /No notes/, `${notes} notes, and the section does not deny them`);
    else t.match(text ?? '', /No notes: \w.{20,}/, 'no notes in its trace, and the section says why');
  });
}
