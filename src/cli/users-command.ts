/**
 * `stagger users add --name NAME [--role admin|user] [--plan STARTER|ENTERPRISE] [--plan-status …]
 * [--max-sessions N] [--json]`, `stagger users token --id ID [--json]` and `stagger users revoke --token TOKEN_ID |
 * --user ID [--json]`. Tokens are printed once and stored as hashes; a revoked token stops working at once.
 */
import {
  PLAN_STATUSES,
  PLAN_TYPES,
  ROLES,
  type PlanStatus,
  type PlanType,
  type Role,
} from '../storage/users.js';
import { LIMITS } from '../core/limits.js';
import { DEFAULT_MAX_SESSIONS } from '../http/routes/admin.js';
import {
  choiceOption,
  groupUsage,
  limitOption,
  parseOptions,
  recordIdOption,
  span,
  UsageError,
} from './args.js';
import { withStore } from './store-command.js';

const help = `usage: stagger users add --name NAME [--role admin|user] [--plan STARTER|ENTERPRISE]
                         [--plan-status active|inactive|expired|suspended] [--max-sessions N] [--json]
       stagger users token --id ID [--json]
       stagger users revoke --token TOKEN_ID | --user ID [--json]

  --max-sessions N   sessions the user may hold, ${span(LIMITS.maxSessions)} (default ${DEFAULT_MAX_SESSIONS})`;

export async function usersCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const usage = groupUsage(sub, help);
  if (usage !== null) return usage;
  if (sub === 'add') {
    const { values } = parseOptions(rest, {
      name: { type: 'string' },
      role: { type: 'string' },
      plan: { type: 'string' },
      'plan-status': { type: 'string' },
      'max-sessions': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    const name = values.name?.trim();
    if (!name) throw new UsageError('--name NAME is required');
    const role = choiceOption<Role>('role', values.role, ROLES, 'user');
    const planType =
      values.plan === undefined ? null : choiceOption<PlanType>('plan', values.plan, PLAN_TYPES, 'STARTER');
    const planStatus = choiceOption<PlanStatus>(
      'plan-status',
      values['plan-status'],
      PLAN_STATUSES,
      'active',
    );
    const maxSessions = limitOption(
      'max-sessions',
      values['max-sessions'],
      DEFAULT_MAX_SESSIONS,
      LIMITS.maxSessions,
    );
    const { id, token } = await withStore(async (store) => {
      const user = await store.users.create({ name, role, planType, planStatus, maxSessions });
      return { id: user.id, token: (await store.users.issueToken(user.id)).token };
    });
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ id, token })}\n`
        : `user ${id} created; token (shown once): ${token}\n`,
    );
    return 0;
  }
  if (sub === 'token') {
    const { values } = parseOptions(rest, {
      id: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    const id = recordIdOption('id', values.id, 'a user id');
    const token = await withStore(async (store) => {
      if (!(await store.users.get(id))) throw new UsageError(`there is no user ${id}`);
      return (await store.users.issueToken(id)).token;
    });
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ id, token })}\n`
        : `new token for user ${id} (shown once): ${token}\n`,
    );
    return 0;
  }
  if (sub === 'revoke') {
    const { values } = parseOptions(rest, {
      token: { type: 'string' },
      user: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    if ((values.token === undefined) === (values.user === undefined)) {
      throw new UsageError('give either --token TOKEN_ID (one token) or --user ID (all of a user’s tokens)');
    }
    const revoked = await withStore(async (store) => {
      if (values.token !== undefined) {
        const tokenId = recordIdOption('token', values.token, 'a token id');
        if (!(await store.users.getToken(tokenId))) throw new UsageError(`there is no token ${tokenId}`);
        return (await store.users.revokeToken(tokenId)) ? 1 : 0;
      }
      const userId = recordIdOption('user', values.user, 'a user id');
      if (!(await store.users.get(userId))) throw new UsageError(`there is no user ${userId}`);
      return store.users.revokeUserTokens(userId);
    });
    process.stdout.write(values.json ? `${JSON.stringify({ revoked })}\n` : `${revoked} token(s) revoked\n`);
    return 0;
  }
  throw new UsageError(`unknown subcommand "${sub}" (add, token, revoke)`);
}
