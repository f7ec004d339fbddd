/** `stagger demo [--json]`: creates the demo operator and customer on demand and prints their tokens. */
import { seedDemo } from '../demo.js';
import { parseOptions } from './args.js';
import { withStore } from './store-command.js';

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write('usage: stagger demo [--json]\n');
    return 0;
  }
  const demo = await withStore(seedDemo);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ adminToken: demo.adminToken, userId: demo.userId, token: demo.token })}\n`,
    );
  } else {
    process.stdout.write(
      `operator token:      ${demo.adminToken}\ndemo customer token: ${demo.token} (user ${demo.userId})\n`,
    );
  }
  return 0;
}
