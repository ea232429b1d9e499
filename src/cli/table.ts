// The member table as terminal text, shared by `constellation members` and the demo.
import type { Member, MemberState } from '../index.js';

/** Options of {@link renderTable}. */
export interface TableOptions {
  /** ANSI colours for states (off when the output is not a terminal or NO_COLOR is set). */
  color?: boolean;
  /** Resources as small bars beside the numbers. */
  bars?: boolean;
  /** The member viewing (marked with `*`). */
  local?: string;
  /** "Now", for the last-change column. Default Date.now(). */
  now?: number;
}

const COLORS: Record<MemberState, string> = { alive: '32', suspect: '33', dead: '31', left: '90' };

/** Whether to colour output written to `stream`. */
export function wantsColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

/** Colours `text` as `state` is coloured in the table. */
export function paintState(state: MemberState, text: string, color: boolean): string {
  return color ? `\x1b[${COLORS[state] ?? '0'}m${text}\x1b[0m` : text;
}

function round(x: number): string {
  return String(Math.round(x * 100) / 100);
}

function usage(used: number, total: number, bars: boolean): string {
  const numbers = `${round(used)}/${round(total)}`;
  if (!bars) return numbers;
  const cells = 6;
  const filled = total > 0 ? Math.round(Math.min(1, Math.max(0, used / total)) * cells) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(cells - filled)} ${numbers}`;
}

/** How long ago `at` was, briefly. */
export function ago(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

/** The table, one line per member sorted by name, with a header line. */
export function renderTable(members: readonly Member[], options: TableOptions = {}): string {
  const { color = false, bars = false, local, now = Date.now() } = options;
  const header = ['NAME', 'ADDRESS', 'STATE', 'INC', 'INSTANCES', 'CPU USED', 'RAM USED MiB', 'TAGS', 'LAST CHANGE'];
  const rows = [...members]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((m) => {
      const r = m.resources;
      const address = m.address.includes(':') ? `[${m.address}]:${m.port}` : `${m.address}:${m.port}`;
      const tags = Object.entries(m.tags)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return {
        state: m.state,
        cells: [
          m.name === local ? `${m.name} *` : m.name,
          address,
          m.state,
          String(m.incarnation),
          usage(r.currentInstances, r.maxInstances, bars),
          usage(r.cpuTotal - r.cpuAvailable, r.cpuTotal, bars),
          usage(r.ramTotalMb - r.ramAvailableMb, r.ramTotalMb, bars),
          tags || '-',
          ago(m.stateChangedAt, now),
        ],
      };
    });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r.cells[i] as string).length)));
  const line = (cells: string[], state?: MemberState) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i] as number);
        return i === 2 && state ? paintState(state, padded, color) : padded;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map((r) => line(r.cells, r.state))].join('\n');
}
