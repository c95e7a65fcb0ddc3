#!/usr/bin/env node
// The `tickets-server` command: serve | migrate | provision FILE (see src/cli.ts).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
