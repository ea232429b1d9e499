// `constellation members`: the member table of a running agent, once or live (--watch).
import type { Member } from '../index.js';
import { hostPortFlag, parse, UsageError } from './args.js';
import { call, follow } from './client.js';
import { DEFAULT_HTTP, MEMBERS_HELP } from './help.js';
import { renderTable, wantsColor } from './table.js';

const STATES = ['alive', 'suspect', 'dead', 'left'];

export async function runMembers(args: readonly string[]): Promise<number> {
  const cmd = 'members';
  const { values } = parse(cmd, args, {
    http: { type: 'string' },
    state: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    watch: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(MEMBERS_HELP);
    return 0;
  }
  const http = hostPortFlag(cmd, 'http', values.http ?? DEFAULT_HTTP, false);
  const states = values.state;
  for (const s of states ?? []) {
    if (!STATES.includes(s)) throw new UsageError(`${cmd}: --state must be one of ${STATES.join(', ')} (got '${s}')`);
  }
  const keep = (m: Member) => !states || states.includes(m.state);
  const color = wantsColor(process.stdout);
  const write = (text: string) => process.stdout.write(text);

  if (!values.watch) {
    const { local, members } = (await call(http, 'GET', '/v1/members')) as { local: string; members: Member[] };
    const shown = members.filter(keep);
    if (values.json) write(`${JSON.stringify(shown, null, 2)}\n`);
    else write(`${renderTable(shown, { color, local })}\n`);
    return 0;
  }

  const table = new Map<string, Member>();
  let local = '';
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const redraw = () => {
    const shown = [...table.values()].filter(keep);
    const text = renderTable(shown, { color, local, bars: true });
    // On a terminal the table is redrawn in place; into a pipe each version follows the last.
    if (process.stdout.isTTY) write(`\x1b[H\x1b[2J${text}\n\nwatching http://${http} (Ctrl-C to stop)\n`);
    else write(`${text}\n\n`);
  };
  await follow(
    http,
    ({ event, data }) => {
      if (event === 'snapshot') {
        const snapshot = data as { name: string; members: Member[] };
        local = snapshot.name;
        table.clear();
        for (const m of snapshot.members) table.set(m.name, m);
        if (values.json) write(`${JSON.stringify({ type: 'snapshot', members: snapshot.members.filter(keep) })}\n`);
        else redraw();
      } else if (event === 'member') {
        const change = data as { type: string; at: number; member: Member };
        table.set(change.member.name, change.member);
        if (values.json) {
          if (keep(change.member)) write(`${JSON.stringify(change)}\n`);
        } else redraw();
      }
    },
    controller.signal,
  );
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}
