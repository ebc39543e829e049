// Render .bpmn files to PNG with bpmn-js's NavigatedViewer in headless Chromium (no internet):
//   node render.mjs out_dir file.bpmn [...]
// Writes a local html page per diagram next to the bundled viewer and screenshots it at 1:1 zoom
// (the canvas is as large as the diagram, so labels are readable). A diagram wider than PART_WIDTH
// is written as consecutive parts of about that width (name-1.png, name-2.png, ... overlapping).
// Each collapsed sub-process has a plane of its own (bpmn-js drills down into it): it is drawn
// as name.<sub-process id>.png, the process's own plane as name.png.
import { readFileSync, writeFileSync, mkdtempSync, cpSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const [outDir, ...files] = process.argv.slice(2);
const PART_WIDTH = Number(process.env.PART_WIDTH || 100000);
const OVERLAP = 150;
const TOP = 50;  // room for the breadcrumb above a sub-process plane
const dist = resolve('node_modules/bpmn-js/dist');
const work = mkdtempSync(join(tmpdir(), 'bpmn-render-'));
cpSync(join(dist, 'bpmn-navigated-viewer.production.min.js'), join(work, 'viewer.js'));
cpSync(join(dist, 'assets'), join(work, 'assets'), { recursive: true });
for (const file of files) {
  const xml = readFileSync(file, 'utf8');
  const base = basename(file, '.bpmn');
  writeFileSync(join(work, `${base}.js`), `window.DIAGRAM = ${JSON.stringify(xml)};`);
  const diagrams = [...xml.matchAll(/<bpmndi:BPMNDiagram\b[\s\S]*?<\/bpmndi:BPMNDiagram>/g)].map((m) => m[0]);
  diagrams.forEach((di, index) => {
    const planeOf = di.match(/<bpmndi:BPMNPlane [^>]*bpmnElement="([^"]+)"/)[1];
    const name = index === 0 ? base : `${base}.${planeOf}`;
    const root = index === 0 ? '' : `${planeOf}_plane`;
    const b = [...di.matchAll(/<dc:Bounds x="(-?[\d.]+)" y="(-?[\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)]
      .map((m) => m.slice(1).map(Number));
    // bpmn-js draws the breadcrumb of a sub-process plane ("动火安全作业票 > 动火作业…") over the
    // top-left of the canvas: that plane gets TOP px more above the diagram so it covers nothing.
    const top = root ? TOP : 0;
    const w = Math.ceil(Math.max(...b.map(([x, , bw]) => x + bw))) + 40;
    const h = Math.ceil(Math.max(...b.map(([, y, , bh]) => y + bh))) + 40 + top;
    // About PART_WIDTH per part, parts of equal width overlapping by OVERLAP.
    const parts = Math.max(1, Math.round(w / PART_WIDTH));
    const pw = parts === 1 ? w : Math.ceil(w / parts) + OVERLAP;
    for (let i = 0; i < parts; i += 1) {
      const x0 = parts === 1 ? 0 : Math.round((i * (w - pw)) / (parts - 1));
      const page = `${name}-${i}`;
      const pick = root ? `const canvas = v.get('canvas'); canvas.setRootElement(canvas.findRoot('${root}'));` : '';
      writeFileSync(join(work, `${page}.html`), `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="assets/bpmn-js.css"><link rel="stylesheet" href="assets/diagram-js.css">
<style>html,body{margin:0;background:#fff;font-family:"Noto Sans CJK SC",sans-serif}#c{width:${pw}px;height:${h}px}</style>
</head><body><div id="c"></div><script src="viewer.js"></script><script src="${base}.js"></script>
<script>const v = new BpmnJS({container: '#c'}); v.importXML(window.DIAGRAM).then((r) => { ${pick}
    v.get('canvas').viewbox({x: ${x0}, y: ${-top}, width: ${pw}, height: ${h}});
    document.title = 'ok ' + r.warnings.length; }).catch((e) => { document.body.textContent = 'ERROR ' + e; });</script>
</body></html>`);
      const png = resolve(outDir, parts === 1 ? `${name}.png` : `${name}-${i + 1}.png`);
      execFileSync('/usr/bin/chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
        `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chr-'))}`, `--window-size=${pw},${h}`,
        '--virtual-time-budget=5000', `--screenshot=${png}`, `file://${join(work, page + '.html')}`], { stdio: 'ignore' });
      // The page title says whether bpmn-js imported the diagram and with how many warnings.
      const dom = execFileSync('/usr/bin/chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
        '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chr-'))}`, '--virtual-time-budget=5000', '--dump-dom',
        `file://${join(work, page + '.html')}`], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
      const status = (dom.match(/<title>([^<]*)<\/title>/) || [null, 'no title'])[1];
      console.log(`${png} ${pw}x${h} (x from ${x0}) import: ${status}`);
      if (!status.startsWith('ok')) process.exitCode = 1;
    }
  });
}
