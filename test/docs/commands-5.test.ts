// The documented shell commands of one share of the pages (see doc-commands.ts for the convention).
import t from 'tap';
import { runShard } from './doc-commands.ts';

runShard(t, 5);
