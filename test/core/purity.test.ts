// The core is sans-IO (DESIGN.md): no socket, thread, clock or Node header may be included by
// anything in native/core, so the engine can only learn the time and the network from its host.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../helpers/addon';

const coreDir = path.join(projectRoot, 'native', 'core');
const files = readdirSync(coreDir).filter((f) => /\.(h|hh|hpp|cc|cpp)$/.test(f));

const forbidden: RegExp[] = [
  /^sys\/socket\.h$/,
  /^netinet\//,
  /^arpa\//,
  /^netdb\.h$/,
  /^sys\/epoll\.h$/,
  /^poll\.h$/,
  /^unistd\.h$/,
  /^thread$/,
  /^mutex$/,
  /^shared_mutex$/,
  /^condition_variable$/,
  /^future$/,
  /^atomic$/,
  /^pthread\.h$/,
  /^chrono$/,
  /^ctime$/,
  /^time\.h$/,
  /^sys\/time\.h$/,
  /^random$/, // randomness comes from the seeded core/rng.h only
  /^node/, // node.h, node_api.h, node-addon-api's napi.h below
  /^napi\.h$/,
  /^uv\.h$/,
];

function includes(file: string): string[] {
  const text = readFileSync(path.join(coreDir, file), 'utf8');
  return [...text.matchAll(/^\s*#\s*include\s*[<"]([^>"]+)[>"]/gm)].map((m) => m[1] as string);
}

describe('native/core purity', () => {
  it('has source files to check', () => {
    expect(files).toContain('engine.h');
    expect(files).toContain('engine.cc');
  });

  it.each(files)('%s includes no socket, thread, clock, randomness or Node header', (file) => {
    const bad = includes(file).filter((h) => forbidden.some((f) => f.test(h)));
    expect(bad).toEqual([]);
  });

  it.each(files)('%s includes nothing outside core/, wire/ and the standard library', (file) => {
    const local = includes(file).filter((h) => h.includes('/') || h.endsWith('.h'));
    for (const h of local) expect(h.startsWith('core/') || h.startsWith('wire/')).toBe(true);
  });

  it('the checker itself catches a forbidden include', () => {
    expect(forbidden.some((f) => f.test('chrono'))).toBe(true);
    expect(forbidden.some((f) => f.test('sys/socket.h'))).toBe(true);
    expect(forbidden.some((f) => f.test('vector'))).toBe(false);
  });
});
