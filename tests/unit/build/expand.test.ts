/** Variable substitution with BuildKit's shell-lexer rules, and .dockerignore matching with docker's. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envLookup, Expander } from '../../../src/build/expand.js';
import { IgnoreMatcher } from '../../../src/build/ignore.js';

const env = envLookup(['A=hello', 'EMPTY=', 'P=/usr/local/bin', 'F=file.tar.gz', 'SP=a b']);
const word = (s: string, esc = '\\') => new Expander(env, esc).word(s);

test('$VAR, ${VAR} and the modifiers', () => {
  assert.equal(word('$A-${A}_$UNSET.'), 'hello-hello_.');
  assert.equal(word('${UNSET:-def} ${EMPTY:-def} ${EMPTY-def} ${UNSET-def}'), 'def def  def');
  assert.equal(word('${A:+alt} ${EMPTY:+alt} ${EMPTY+alt} ${UNSET+alt}'), 'alt  alt ');
  assert.equal(word('${UNSET:-${A}x}'), 'hellox');
  assert.throws(() => word('${UNSET:?is required}'), /UNSET: is required/);
  assert.throws(() => word('${EMPTY:?}'), /EMPTY/);
  assert.equal(word('${EMPTY?x}'), '');
  assert.equal(word('${F#*.} ${F##*.} ${F%.*} ${F%%.*}'), 'tar.gz gz file.tar file');
  assert.equal(word('${P/local/opt} ${F//a/A}'), '/usr/opt/bin file.tAr.gz');
  assert.equal(word('cost: $5 and $'), 'cost:  and $');
  assert.throws(() => word('${A'), /missing '}'/);
});

test('quotes and the escape character', () => {
  assert.equal(word(`'$A' "$A" \\$A "\\$A" "a\\nb"`), '$A hello $A $A a\\nb');
  assert.equal(word('"${SP}"x'), 'a bx');
  assert.equal(word('`$A', '`'), '$A');
  assert.throws(() => word('"open'), /double-quote/);
  const x = new Expander(env);
  assert.deepEqual(x.words('a "b c" $SP \'d e\' x$EMPTY'), ['a', 'b c', 'a', 'b', 'd e', 'x']);
  assert.deepEqual([...x.used], ['SP', 'EMPTY']);
  // A heredoc body: substitutions only, quotes kept.
  assert.equal(new Expander(env).heredoc('say "$A" \'${A}\' \\$A\n'), 'say "hello" \'hello\' $A\n');
});

test('.dockerignore: last match wins, parents match, ** and ! as docker', () => {
  const m = IgnoreMatcher.parse('# comment\nnode_modules\n*.log\n!keep.log\n/build/\n**/tmp\ndocs/**/*.md\n!docs/README.md\n./x/../secret\n');
  const yes = ['node_modules', 'node_modules/a/b.js', 'a.log', 'build', 'build/x', 'tmp', 'a/b/tmp/c', 'docs/a/b.md', 'docs/x.md', 'secret'];
  const no = ['keep.log', 'src/a.log', 'src/app.js', 'docs/README.md', 'buildx', 'docs/a.txt', 'x/secret'];
  for (const p of yes) assert.equal(m.ignored(p), true, p);
  for (const p of no) assert.equal(m.ignored(p), false, p);
  assert.equal(IgnoreMatcher.parse('\n  \n').empty, true);
  // ? and [...] do not cross /, \ escapes.
  const c = IgnoreMatcher.parse('a?c\n[0-9]*.txt\nq\\*\n');
  assert.equal(c.ignored('abc'), true);
  assert.equal(c.ignored('a/c'), false);
  assert.equal(c.ignored('1x.txt'), true);
  assert.equal(c.ignored('q*'), true);
  assert.equal(c.ignored('qq'), false);
  // An exclusion below an ignored directory makes it worth walking.
  assert.equal(IgnoreMatcher.parse('dir\n!dir/keep\n').mayReinclude('dir'), true);
  assert.equal(IgnoreMatcher.parse('dir\n!other\n').mayReinclude('dir'), false);
});
