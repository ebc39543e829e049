// Open .bpmn files in the bpmn-js Modeler (headless Chromium, no internet) and save them again, as a
// designer does in a bpmn.io-based modeler without changing anything (issue 14 §4):
//   node roundtrip.mjs out_dir file.bpmn [...]
// Writes out_dir/<name>.bpmn (the Modeler's saveXML) and prints one JSON line per file:
// {"file", "ok", "warnings": [...], "error"}. Exit status 1 when a file fails to import or save.
// tests/test_bpmnjs_roundtrip.py deploys the saved files and runs scenarios on them.
import { readFileSync, writeFileSync, mkdtempSync, cpSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const [outDir, ...files] = process.argv.slice(2);
const dist = resolve(new URL('.', import.meta.url).pathname, 'node_modules/bpmn-js/dist');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'bpmn-roundtrip-'));
cpSync(join(dist, 'bpmn-modeler.production.min.js'), join(work, 'modeler.js'));
mkdirSync(outDir, { recursive: true });
let failed = 0;
for (const file of files) {
  const name = basename(file, '.bpmn');
  writeFileSync(join(work, `${name}.js`), `window.DIAGRAM = ${JSON.stringify(readFileSync(file, 'utf8'))};`);
  // The result goes into the page as base64 (any text survives --dump-dom's HTML serialisation).
  writeFileSync(join(work, `${name}.html`), `<!doctype html><html><head><meta charset="utf-8"></head>
<body><div id="c" style="width:2000px;height:1200px"></div><pre id="out"></pre>
<script src="modeler.js"></script><script src="${name}.js"></script>
<script>
// In slices: spreading a whole saved diagram (over ~100 k bytes) into one call overflows the stack.
const put = (o) => { const bytes = new TextEncoder().encode(JSON.stringify(o)); let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  document.getElementById('out').textContent = 'RESULT:' + btoa(bin) + ':END'; };
const m = new BpmnJS({ container: '#c' });
m.importXML(window.DIAGRAM)
  .then((r) => m.saveXML({ format: true }).then((s) => put({ ok: true, warnings: r.warnings.map((w) => w.message),
                                                           xml: s.xml })))
  .catch((e) => put({ ok: false, error: String(e), warnings: (e.warnings || []).map((w) => w.message) }));
</script></body></html>`);
  let dom = '';
  try {
    dom = execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chr-'))}`, '--virtual-time-budget=10000', '--dump-dom',
      `file://${join(work, name + '.html')}`], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).toString();
  } catch (e) {
    dom = '';
  }
  const m = dom.match(/RESULT:([A-Za-z0-9+/=]*):END/);
  const result = m ? JSON.parse(Buffer.from(m[1], 'base64').toString('utf8'))
    : { ok: false, error: 'no result from the page (chromium failed or timed out)', warnings: [] };
  if (result.ok) writeFileSync(join(outDir, `${name}.bpmn`), result.xml);
  else failed += 1;
  console.log(JSON.stringify({ file: basename(file), ok: result.ok, warnings: result.warnings,
                               error: result.error || null }));
}
process.exit(failed ? 1 : 0);
