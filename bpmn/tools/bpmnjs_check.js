// Open every diagram of bpmn/ in the bpmn-js Modeler inside headless Chromium, the way a
// bpmn.io-based modeler (Camunda Modeler, the SpiffWorkflow modeler) opens it, and report:
// import warnings, how many elements were drawn against how many have DI, and whether saving
// from the modeler keeps the spiffworkflow:* extensions the engine reads. Writes one SVG per
// diagram to OUT. Not part of `make test` (that needs no node): run it by hand, see bpmn/README.md.
//
//   MODULES=/tmp/bpmnjs-render/node_modules CHROMIUM=/usr/bin/chromium OUT=/tmp/bpmnjs-out \
//     node bpmn/tools/bpmnjs_check.js bpmn/*.bpmn
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const modules = process.env.MODULES || path.join(process.cwd(), 'node_modules');
const req = createRequire(path.join(modules, 'noop.js'));
const puppeteer = req('puppeteer-core');
const bundle = path.join(modules, 'bpmn-js', 'dist', 'bpmn-modeler.development.js');
const out = process.env.OUT || '/tmp/bpmnjs-out';

function countDi(xml) {
  return (xml.match(/<bpmndi:BPMN(Shape|Edge) /g) || []).length;
}

function countExtensions(xml) {
  return (xml.match(/<spiffworkflow:[A-Za-z]+/g) || []).length;
}

(async () => {
  fs.mkdirSync(out, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setContent('<html><body><div id="canvas" style="width:3000px;height:2000px"></div></body></html>');
  await page.addScriptTag({ path: bundle });
  let failed = 0;
  for (const file of process.argv.slice(2)) {
    const xml = fs.readFileSync(file, 'utf8');
    const result = await page.evaluate(async (source) => {
      const container = document.getElementById('canvas');
      container.innerHTML = '';
      const modeler = new window.BpmnJS({ container });
      try {
        const { warnings } = await modeler.importXML(source);
        const registry = modeler.get('elementRegistry');
        // Drawn elements with DI: everything but the root and labels.
        const drawn = registry.filter((e) => e.type !== 'label' && e.parent).length;
        const { svg } = await modeler.saveSVG();
        const { xml: saved } = await modeler.saveXML({ format: true });
        return { ok: true, warnings: warnings.map((w) => w.message), drawn, svg, saved };
      } catch (err) {
        return { ok: false, error: String(err), warnings: (err.warnings || []).map((w) => w.message) };
      } finally {
        modeler.destroy();
      }
    }, xml);
    const name = path.basename(file);
    if (!result.ok) {
      failed += 1;
      console.log(`FAIL ${name}: ${result.error}`);
      continue;
    }
    fs.writeFileSync(path.join(out, name.replace(/\.bpmn$/, '.svg')), result.svg);
    fs.writeFileSync(path.join(out, name.replace(/\.bpmn$/, '.saved.bpmn')), result.saved);
    const di = countDi(xml);
    const ext = [countExtensions(xml), countExtensions(result.saved)];
    const ok = result.warnings.length === 0 && result.drawn === di && ext[0] === ext[1];
    if (!ok) failed += 1;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: drawn ${result.drawn}/${di} DI elements, ` +
                `${result.warnings.length} import warnings, spiffworkflow extensions kept on save ` +
                `${ext[1]}/${ext[0]}, SVG ${result.svg.length} bytes`);
    for (const w of result.warnings) console.log(`     warning: ${w}`);
  }
  for (const e of errors) console.log(`page error: ${e}`);
  await browser.close();
  process.exit(failed ? 1 : 0);
})();
