/**
 * A process appending events to an event log as fast as it can, for the concurrency tests:
 * `node events-appender.js DIR COUNT TAG MAX_SIZE` (COUNT 0: until killed). Each event names
 * its writer and sequence number, and carries a label long enough that lines cross pages.
 */
import { FileEventLog } from '../../src/engine/events/file-log.js';
import { containerEvent } from '../../src/engine/events/message.js';

const [dir = '', count = '0', tag = 'w', maxSize = String(8 << 20)] = process.argv.slice(2);
const log = new FileEventLog({
  dir,
  maxSize: Number(maxSize),
  onError: (e) => {
    process.stderr.write(`${String(e)}\n`);
    process.exitCode = 1;
  },
});
const pad = 'x'.repeat(1500);
for (let i = 0; Number(count) === 0 || i < Number(count); i++) {
  log.append(containerEvent('exec_start: x', { id: `${tag}-${i}`, name: tag, image: 'busybox', labels: { pad } }, { seq: String(i) }));
}
