#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=2 --no-allocation-site-pretenuring
// The `tickets-server` command: serve | migrate | provision FILE (see src/cli.ts).
import { setFlagsFromString } from 'node:v8';

// Memory (docs/operating.md, "Memory"): V8 lets its old generation grow to up to four times what
// is live before it collects; under the list page's load that took the server's peak RSS from
// about 110 to 150-185 MiB. Growing by 30% (at least V8's own minimum step) keeps it near 110 MiB
// for a few percent more CPU per request. Set before the server's modules load; an operator who
// gives node --heap-growing-percent keeps theirs. The young generation's bound,
// --max-semi-space-size, cannot be set from inside the process, nor can glibc's MALLOC_ARENA_MAX
// (two malloc arenas, not one per thread that ever allocated, each keeping what it freed) and
// MALLOC_MMAP_THRESHOLD_ (blocks of 128 KiB and more mapped on their own and given back when
// freed: without it, freeing a password check's 8 MiB raises the threshold to 8 MiB, and later
// large blocks stay in the heap after they are freed), and
// --no-allocation-site-pretenuring (without it the pg driver's results came to end up where
// only a full collection frees them) helped in 3 runs of 7 when set from here, in 10 of 12 on
// node's command line: the first line gives all three when the command is run as itself (as
// npm's bin link, the container and the benchmark run it), and `node bin/tickets-server.js`
// runs without them.
if (!/--heap[-_]growing[-_]percent/.test(process.execArgv.join(' '))) {
  setFlagsFromString('--heap-growing-percent=30');
}

const { main } = await import('../dist/cli.js');
main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
