/**
 * The operator API's keys (`npm run ops -- keys …`):
 *   keys create --name <who or what> --scopes orders:read,refunds:write,…   prints the key, once
 *   keys list                                                                 no secrets, ever
 *   keys revoke <id> [--reason <text>]
 * Run where the user service's database is reachable (USER_DATABASE_URL). Each creation and revocation is
 * an entry of the audit log, by `cli:<the shell user>`.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '@paystream/common/config';
import { initDataSource } from '@paystream/common/db';
import { OPERATOR_SCOPES } from '@paystream/common/operator';
import { z } from 'zod';
import { userDataSource } from '../db/data-source';
import { Operators } from '../domain/operators';

const USAGE = `usage: npm run ops -- keys create --name <name> --scopes <${OPERATOR_SCOPES.join(',')}>
       npm run ops -- keys list | keys revoke <id> [--reason <text>]`;

const createArgs = z.object({
  name: z.string().trim().min(1).max(200),
  scopes: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(z.array(z.enum(OPERATOR_SCOPES)).min(1)),
});
const revokeArgs = z.object({
  id: z.string().regex(/^[a-z0-9]{12}$/, 'a key id'),
  reason: z.string().max(500).optional(),
});

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { name: { type: 'string' }, scopes: { type: 'string' }, reason: { type: 'string' } },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, id] = parsed.positionals;
  const by = { keyId: 'cli', keyName: `cli:${os.userInfo().username}` };
  const args =
    command === 'create'
      ? createArgs.safeParse(parsed.values)
      : command === 'revoke'
        ? revokeArgs.safeParse({ id, ...parsed.values })
        : command === 'list'
          ? { success: true as const, data: {} }
          : undefined;
  if (!args?.success) {
    console.error(`${args ? z.prettifyError(args.error) : `unknown command ${command ?? ''}`}\n${USAGE}`);
    return 2;
  }
  const db = await initDataSource(userDataSource(loadConfig().USER_DATABASE_URL));
  try {
    const operators = new Operators(db);
    if (command === 'create') {
      const { name, scopes } = args.data as z.infer<typeof createArgs>;
      const { key, row } = await operators.createKey(name, scopes, by);
      console.log(JSON.stringify({ id: row.id, name: row.name, scopes: row.scopes, key }));
      console.error('Keep the key now: it is shown only this once (only its hash is stored).');
      return 0;
    }
    if (command === 'list') {
      for (const row of await operators.keys()) console.log(JSON.stringify(row));
      return 0;
    }
    const { id: keyId, reason } = args.data as z.infer<typeof revokeArgs>;
    const row = await operators.revokeKey(keyId, by, reason);
    if (!row) {
      console.error(`no key ${keyId}`);
      return 1;
    }
    console.log(JSON.stringify(row));
    return 0;
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
