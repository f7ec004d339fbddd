#!/usr/bin/env node
// The `stagger` command. TypeScript sources run through tsx's loader, so `npx stagger …` works right after
// `npm ci` with no build step to remember.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
