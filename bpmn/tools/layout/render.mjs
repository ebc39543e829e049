// Render .bpmn files to PNG with bpmn-js's NavigatedViewer in headless Chromium (no internet):
//   node render.mjs out_dir file.bpmn [...]
// Writes a local html page per diagram next to the bundled viewer and screenshots it at 1:1 zoom
// (the canvas is as large as the diagram, so labels are readable).
import { readFileSync, writeFileSync, mkdtempSync, cpSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const [outDir, ...files] = process.argv.slice(2);
const dist = resolve('node_modules/bpmn-js/dist');
const work = mkdtempSync(join(tmpdir(), 'bpmn-render-'));
cpSync(join(dist, 'bpmn-navigated-viewer.production.min.js'), join(work, 'viewer.js'));
cpSync(join(dist, 'assets'), join(work, 'assets'), { recursive: true });
for (const file of files) {
  const xml = readFileSync(file, 'utf8');
  const b = [...xml.matchAll(/<dc:Bounds x="(-?[\d.]+)" y="(-?[\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)]
    .map((m) => m.slice(1).map(Number));
  const w = Math.ceil(Math.max(...b.map(([x, , bw]) => x + bw))) + 40;
  const h = Math.ceil(Math.max(...b.map(([, y, , bh]) => y + bh))) + 40;
  const name = basename(file, '.bpmn');
  writeFileSync(join(work, `${name}.js`), `window.DIAGRAM = ${JSON.stringify(xml)};`);
  writeFileSync(join(work, `${name}.html`), `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="assets/bpmn-js.css"><link rel="stylesheet" href="assets/diagram-js.css">
<style>html,body{margin:0;background:#fff;font-family:"Noto Sans CJK SC",sans-serif}#c{width:${w}px;height:${h}px}</style>
</head><body><div id="c"></div><script src="viewer.js"></script><script src="${name}.js"></script>
<script>const v = new BpmnJS({container: '#c'}); v.importXML(window.DIAGRAM).then((r) => {
  v.get('canvas').viewbox({x: 0, y: 0, width: ${w}, height: ${h}});
  document.title = 'ok ' + r.warnings.length; }).catch((e) => { document.body.textContent = 'ERROR ' + e; });</script>
</body></html>`);
  const png = resolve(outDir, `${name}.png`);
  execFileSync('/usr/bin/chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
    `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chr-'))}`, `--window-size=${w},${h}`,
    '--virtual-time-budget=5000', `--screenshot=${png}`, `file://${join(work, name + '.html')}`], { stdio: 'ignore' });
  console.log(`${png} ${w}x${h}`);
}
