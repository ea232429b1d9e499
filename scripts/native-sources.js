// Lists the addon's C++ sources for binding.gyp, so a new file in a native layer needs no
// edit of the build file. Only the layers that make up the addon are listed; fuzz targets and
// native unit tests live under test/native and are built by CMake.
const fs = require('node:fs');
const path = require('node:path');

const layers = ['wire', 'core', 'sim', 'runtime', 'addon'];
const root = path.join(__dirname, '..', 'native');
const sources = [];
for (const layer of layers) {
  const dir = path.join(root, layer);
  if (!fs.existsSync(dir)) continue;
  for (const file of fs.readdirSync(dir).sort()) {
    if (file.endsWith('.cc')) sources.push(`native/${layer}/${file}`);
  }
}
process.stdout.write(sources.join(' '));
