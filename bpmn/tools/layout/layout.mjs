// Lay out one BPMN process with ELK layered (elkjs): reads the graph of bpmn/tools/relayout.py on
// stdin, writes the geometry (shapes, waypoints, label bounds, lanes, pool) as JSON on stdout.
//
// Lanes are horizontal bands, which ELK layered does not stack by itself. Two runs:
//  1. ELK layered on the whole process (left to right, model order breaks cycles, so the flows the
//     generator declares as send-backs become the back edges) gives each node its layer (column);
//  2. each lane gets a band: inside it, the nodes of one column are stacked in the column order of
//     run 1; the band is as tall as its fullest column. ELK layered then runs again in interactive
//     mode on these positions (layers from x, order and y from the preset y) and routes every flow
//     orthogonally between the columns, so no flow crosses a shape.
import { readFileSync } from 'node:fs';
import ELK from 'elkjs/lib/elk.bundled.js';

const elk = new ELK();
const g = JSON.parse(readFileSync(0, 'utf8'));

const LANE_HEADER = 30;   // the lane's name strip on the left (bpmn-js draws it 30 px wide)
const POOL_HEADER = 30;
const LANE_PAD = 30;      // room above the first and below the last row of a lane
const ROW = 130;          // one stacked row inside a lane: task 80 + label/boundary room
const LEFT = 60;          // x where content starts inside a lane

const base = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.spacing.nodeNode': '40',
  'elk.layered.spacing.nodeNodeBetweenLayers': '50',
  'elk.spacing.edgeNode': '20',
  'elk.spacing.edgeEdge': '12',
  'elk.layered.spacing.edgeNodeBetweenLayers': '20',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '12',
  'elk.spacing.labelNode': '4',
  'elk.spacing.edgeLabel': '4',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.cycleBreaking.strategy': 'DEPTH_FIRST',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.edgeLabels.inline': 'false',
  'elk.layered.mergeEdges': 'false',
  'elk.layered.feedbackEdges': 'true',
  'elk.separateConnectedComponents': 'false',
  'elk.portConstraints': 'FIXED_SIDE',
};

const northPorts = new Set();  // boundary events whose flow could not leave downwards
const byId = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
const boundaryById = Object.fromEntries(g.boundaries.map((b) => [b.id, b]));

function elkGraph(positions, options) {
  const children = g.nodes.map((n) => {
    const child = { id: n.id, width: n.w, height: n.h, layoutOptions: {} };
    if (n.label) {
      child.labels = [{ text: n.name, width: n.label[0], height: n.label[1] }];
      child.layoutOptions['elk.nodeLabels.placement'] = 'OUTSIDE V_BOTTOM H_CENTER';
    }
    const ports = g.boundaries.filter((b) => b.host === n.id);
    if (ports.length) {
      child.ports = ports.map((b) => ({
        id: b.id, width: 36, height: 18,
        layoutOptions: { 'elk.port.side': northPorts.has(b.id) ? 'NORTH' : 'SOUTH', 'elk.port.borderOffset': '0' },
        labels: b.label ? [{ text: b.name, width: b.label[0], height: b.label[1] }] : [],
      }));
      child.layoutOptions['elk.portConstraints'] = 'FIXED_ORDER';
      child.layoutOptions['elk.portLabels.placement'] = 'OUTSIDE';
      child.layoutOptions['elk.spacing.portPort'] = '10';
    }
    // Activities get ports on their sides for ordinary flows? ELK docks on the node box itself.
    if (positions) {
      child.x = positions[n.id].x;
      child.y = positions[n.id].y;
    }
    return child;
  });
  const edges = g.flows.map((f) => {
    const e = { id: f.id, sources: [f.source], targets: [f.target] };
    if (f.label) e.labels = [{ text: f.name, width: f.label[0], height: f.label[1],
      layoutOptions: { 'elk.edgeLabels.placement': 'TAIL' } }];
    return e;
  });
  return { id: 'root', layoutOptions: { ...base, ...options }, children, edges };
}

// --- run 1: columns
const first = await elk.layout(elkGraph(null, {}));
const placed = Object.fromEntries(first.children.map((c) => [c.id, c]));
// A column = a layer; nodes of one layer share (roughly) their x range.
function columnsOf(laid) {
  const cols = [];
  for (const c of [...laid].filter((c) => byId[c.id]).sort((a, b) => a.x - b.x)) {
    const col = cols.find((k) => c.x < k.right - 2 && c.x + c.width > k.left + 2);
    if (col) { col.ids.push(c.id); col.left = Math.min(col.left, c.x); col.right = Math.max(col.right, c.x + c.width); }
    else cols.push({ ids: [c.id], left: c.x, right: c.x + c.width });
  }
  const of = {};
  cols.forEach((k, i) => k.ids.forEach((id) => { of[id] = i; }));
  return [cols, of];
}
let [columns, columnOf] = columnsOf(first.children);

// --- run 2: lanes. Model order = lanes top to bottom (inside a lane, run 1's order), forced in
// every layer; a chain of thin "separator" nodes per lane boundary, one per column, kept straight,
// divides the bands; partitions pin every node to its run-1 column.
const laneIds = g.lanes.length ? g.lanes.map((l) => l.id) : [null];
const laneIndex = Object.fromEntries(laneIds.map((l, i) => [l, i]));
const order = [...g.nodes].sort((a, b) => (laneIndex[a.lane ?? null] - laneIndex[b.lane ?? null])
  || (placed[a.id].y - placed[b.id].y));
async function laneRun(placed) {
const preset = Object.fromEntries(g.nodes.map((n) => [n.id, { x: placed[n.id].x, y: placed[n.id].y }]));
const g2 = elkGraph(preset, {
  'elk.partitioning.activate': 'true',
  'elk.layered.cycleBreaking.strategy': 'INTERACTIVE',
  'elk.layered.crossingMinimization.forceNodeModelOrder': 'true',
  'elk.layered.crossingMinimization.greedySwitch.type': 'OFF',
  'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
});
const childById = Object.fromEntries(g2.children.map((c) => [c.id, c]));
g2.children.forEach((c) => { c.layoutOptions['elk.partitioning.partition'] = String(columnOf[c.id]); });
const children = [];
const separators = [];
laneIds.forEach((lane, li) => {
  order.filter((n) => (n.lane ?? null) === lane).forEach((n) => children.push(childById[n.id]));
  if (li === laneIds.length - 1) return;
  const chain = columns.map((k, ci) => ({
    id: `__sep_${li}_${ci}`, width: 10, height: 10,
    x: k.left, y: 0,
    layoutOptions: { 'elk.partitioning.partition': String(ci) },
  }));
  chain.forEach((c) => children.push(c));
  separators.push(chain);
  chain.slice(1).forEach((c, i) => g2.edges.push({
    id: `__sepedge_${li}_${i}`, sources: [chain[i].id], targets: [c.id],
    layoutOptions: { 'elk.layered.priority.straightness': '100', 'elk.layered.priority.shortness': '100' },
  }));
});
g2.children = children;
// Model order alone is not always kept by ELK; in-layer successor constraints state the order of
// each column outright: lane 1's nodes, separator, lane 2's nodes, separator, ...
const sepById = Object.fromEntries(children.filter((c) => c.id.startsWith('__sep')).map((c) => [c.id, c]));
columns.forEach((k, ci) => {
  const seq = [];
  laneIds.forEach((lane, li) => {
    order.filter((n) => (n.lane ?? null) === lane && columnOf[n.id] === ci).forEach((n) => seq.push(childById[n.id]));
    if (li < laneIds.length - 1) seq.push(sepById[`__sep_${li}_${ci}`]);
  });
  seq.slice(1).forEach((c, j) => { c.layoutOptions['elk.layered.crossingMinimization.inLayerSuccOf'] = seq[j].id; });
});
return [await elk.layout(g2), separators];

}

let second, separators, runs = 0;
let from = placed;
for (;;) {
  [second, separators] = await laneRun(from);
  runs += 1;
  // A partition may hold several layers (edge-label layers, for one); a node in a layer without
  // separators could slip out of its band: split the columns by run 2's layers and run again.
  const [cols2, of2] = columnsOf(second.children);
  if (!separators.length || runs >= 6) break;
  const sepXs = separators[0].map((c) => second.children.find((x) => x.id === c.id))
    .map((c) => [c.x, c.x + c.width]);
  const orphan = cols2.filter((k) => !sepXs.some(([l, r]) => l < k.right && k.left < r));
  if (process.env.LAYOUT_DEBUG) console.error('run', runs, 'columns', columns.length, 'orphan columns', orphan.map((k) => k.ids));
  if (!orphan.length) break;
  [columns, columnOf] = [cols2, of2];
  from = Object.fromEntries(second.children.map((c) => [c.id, c]));
}
// A flow leaving a boundary event downwards runs through the host's column; if a shape lies in its
// way there, the event moves to the top border of its host and the lanes are laid out again.
for (let tries = 0; tries < 3; tries += 1) {
  const boxes = {};
  for (const c of second.children) if (byId[c.id]) boxes[c.id] = [c.x, c.y, c.width, c.height];
  const blocked = [];
  for (const e of second.edges) {
    const b = boundaryById[e.sources[0]];
    const s = e.sections?.[0];
    if (!b || !s) continue;
    const pts = [s.startPoint, ...(s.bendPoints || []), s.endPoint];
    const through = pts.slice(1).some((q, i) => { const p = pts[i];
      return Object.entries(boxes).some(([id, [x, y, w, h]]) => id !== b.host && id !== e.targets[0]
        && Math.max(p.x, q.x) > x + 1 && Math.min(p.x, q.x) < x + w - 1
        && Math.max(p.y, q.y) > y + 1 && Math.min(p.y, q.y) < y + h - 1); });
    if (through && !northPorts.has(b.id)) blocked.push(b.id);
  }
  if (!blocked.length) break;
  blocked.forEach((id) => northPorts.add(id));
  [second, separators] = await laneRun(from);
}
const out = { nodes: {}, edges: {}, labels: {}, lanes: {}, pool: null, unplaced: [], cramped: [] };
for (const c of second.children) {
  if (c.id.startsWith('__sep')) continue;
  out.nodes[c.id] = [c.x, c.y, c.width, c.height];
  for (const l of c.labels || []) out.labels[c.id] = [c.x + l.x, c.y + l.y, l.width, l.height];
  for (const p of c.ports || []) {
    // The port is the lower half of the event circle, centred on the host's bottom border.
    // ELK may move a port to the top border (the flow then leaves upwards): centre the circle on
    // the border the port sits on.
    const north = p.y < 0;
    out.nodes[p.id] = [c.x + p.x, north ? c.y - 18 : c.y + c.height - 18, 36, 36];
    for (const l of p.labels || []) out.labels[p.id] = [c.x + p.x + l.x, c.y + p.y + l.y, l.width, l.height];
  }
}
for (const e of second.edges) {
  if (e.id.startsWith('__sep')) continue;
  const s = e.sections?.[0];
  const pts = s ? [s.startPoint, ...(s.bendPoints || []), s.endPoint].map((p) => [p.x, p.y]) : [];
  out.edges[e.id] = pts;
  for (const l of e.labels || []) out.labels[e.id] = [l.x, l.y, l.width, l.height];
}

// --- detours: ELK routes a flow from a bottom/top port through the host's own column; when a
// shape of that column lies in the way (rare: a few flows of the library), the flow instead
// leaves the event, turns into the free channel right of the column and enters the target from
// its side. Candidates are tried nearest first; the first that crosses no shape is kept.
const crosses = (pts, skip) => pts.slice(1).some((q, i) => { const p = pts[i];
  return Object.entries(out.nodes).some(([id, [x, y, w, h]]) => !skip.has(id)
    && Math.max(p[0], q[0]) > x + 1 && Math.min(p[0], q[0]) < x + w - 1
    && Math.max(p[1], q[1]) > y + 1 && Math.min(p[1], q[1]) < y + h - 1); });
for (const f of g.flows) {
  const b = boundaryById[f.source];
  const pts = out.edges[f.id];
  if (!b || !pts || pts.length < 2) continue;
  const skip = new Set([f.source, f.target]);
  if (!crosses(pts, skip)) continue;
  const [ex, ey] = out.nodes[f.source];
  const host = out.nodes[b.host];
  const down = ey + 18 >= host[1] + host[3] - 1;
  const start = [ex + 18, down ? ey + 36 : ey];
  const [tx, ty, tw, th] = out.nodes[f.target];
  const tcy = ty + th / 2;
  const found = (() => {
    for (let off = 15; off <= 90; off += 15) {
      const y1 = start[1] + (down ? off : -off);
      for (let cx = host[0] + host[2] + 15; cx < host[0] + host[2] + 200; cx += 10) {
        const enterWest = tx >= cx;
        const end = [enterWest ? tx : tx + tw, tcy];
        const route = [start, [start[0], y1], [cx, y1], [cx, tcy], end];
        if (!crosses(route, skip)) return route;
      }
    }
    return null;
  })();
  if (found) out.edges[f.id] = found;
}

// --- phases: bpmn-js draws a collapsed sub-process's ⊞ marker at the bottom centre, where ELK
// centres a single bottom event, and its drill-down button under the bottom-right corner. Such an
// event moves to the bottom-left corner, its flow's first stretch with it, where that crosses nothing.
for (const f of g.flows) {
  const b = boundaryById[f.source];
  if (!b || byId[b.host]?.tag !== 'subProcess') continue;
  const [hx, hy, hw, hh] = out.nodes[b.host];
  const [ex, ey] = out.nodes[f.source];
  const pts = out.edges[f.id];
  if (ey + 18 < hy + hh - 1 || ex + 36 <= hx + hw / 2 - 8 || !pts || pts.length < 3) continue;
  const x = hx + 4 + 18;
  if (Math.abs(pts[0][0] - pts[1][0]) > 0.5 || Math.abs(pts[1][1] - pts[2][1]) > 0.5) continue;
  const route = [[x, pts[0][1]], [x, pts[1][1]], ...pts.slice(2)];
  const events = Object.keys(out.nodes).filter((id) => boundaryById[id]?.host === b.host && id !== f.source);
  const taken = events.some((id) => Math.abs(out.nodes[id][0] - (hx + 4)) < 40 && out.nodes[id][1] === ey);
  if (taken || crosses(route, new Set([f.source, f.target]))) continue;
  out.nodes[f.source] = [hx + 4, ey, 36, 36];
  out.edges[f.id] = route;
}

// --- send-back loops: ELK routes a back flow out of the west side of its source and into the
// east side of its target, where it meets the flows going forward. A designer draws the loop
// under (or over) the row instead: out of the source's bottom, back along the channel ELK chose,
// up into the target's bottom. Done only where the new route crosses no shape and shares no
// stretch with another flow.
const kindOfNode = (id) => byId[id]?.kind;
const collinearWithOthers = (fid, pts) => {
  const mine = pts.slice(1).map((q, i) => [pts[i], q]);
  return g.flows.some((o) => o.id !== fid && (out.edges[o.id] || []).slice(1).some((q, i) => {
    const p = out.edges[o.id][i];
    return mine.some(([a, b]) => {
      const horiz = Math.abs(a[1] - b[1]) < 0.5 && Math.abs(p[1] - q[1]) < 0.5 && Math.abs(a[1] - p[1]) < 3;
      const vert = Math.abs(a[0] - b[0]) < 0.5 && Math.abs(p[0] - q[0]) < 0.5 && Math.abs(a[0] - p[0]) < 3;
      if (horiz) return Math.min(Math.max(a[0], b[0]), Math.max(p[0], q[0])) - Math.max(Math.min(a[0], b[0]), Math.min(p[0], q[0])) > 1;
      if (vert) return Math.min(Math.max(a[1], b[1]), Math.max(p[1], q[1])) - Math.max(Math.min(a[1], b[1]), Math.min(p[1], q[1])) > 1;
      return false;
    });
  }));
};
const simplify = (pts) => pts.filter((p, i) => i === 0 || i === pts.length - 1
  || !((Math.abs(pts[i - 1][0] - p[0]) < 0.5 && Math.abs(pts[i + 1][0] - p[0]) < 0.5)
    || (Math.abs(pts[i - 1][1] - p[1]) < 0.5 && Math.abs(pts[i + 1][1] - p[1]) < 0.5)))
  .filter((p, i, a) => i === 0 || Math.abs(p[0] - a[i - 1][0]) > 0.5 || Math.abs(p[1] - a[i - 1][1]) > 0.5);
for (const f of g.flows) {
  let pts = out.edges[f.id];
  if (!pts || pts.length < 4 || boundaryById[f.source]) continue;
  const skip = new Set([f.source, f.target]);
  // Leaving westwards: start at the source's bottom/top instead, join the route at its channel.
  if (pts[1][0] < pts[0][0] - 0.5 && Math.abs(pts[1][1] - pts[0][1]) < 0.5) {
    const [sx, sy, sw, sh] = out.nodes[f.source];
    const cx = sx + sw / 2;
    const yH = pts[2][1];
    const below = yH > sy + sh; const above = yH < sy;
    if ((below || above) && pts.length >= 4) {
      const cand = simplify([[cx, below ? sy + sh : sy], [cx, yH], ...pts.slice(3)]);
      if (!crosses(cand, skip) && !collinearWithOthers(f.id, cand)) pts = cand;
    }
  }
  // Entering westwards (into the east side): come up/down into the target's bottom/top instead.
  const n = pts.length;
  if (n >= 4 && pts[n - 2][0] > pts[n - 1][0] + 0.5 && Math.abs(pts[n - 2][1] - pts[n - 1][1]) < 0.5) {
    const [tx, ty, tw, th] = out.nodes[f.target];
    const cx = tx + tw / 2;
    const yH = pts[n - 3][1];
    const below = yH > ty + th; const above = yH < ty;
    if (below || above) {
      const cand = simplify([...pts.slice(0, n - 3), [cx, yH], [cx, below ? ty + th : ty]]);
      if (cand.length >= 2 && !crosses(cand, skip) && !collinearWithOthers(f.id, cand)) pts = cand;
    }
  }
  out.edges[f.id] = pts;
}

// --- gateway fans: ELK lets every outgoing flow of a gateway leave its east side, a few px apart,
// the ones going up or down turning right after it; their names then have no room between the lines.
// A designer lets the flow that goes up leave from the top corner and the one that goes down from
// the bottom corner. Done where that corner is free (no other flow docks there) and the new route
// crosses no shape and shares no stretch with another flow.
{
  const docksAt = (id, x, y) => g.flows.some((o) => {
    const pts = out.edges[o.id] || [];
    if (!pts.length) return false;
    const ends = [];
    if (o.source === id) ends.push(pts[0]);
    if (o.target === id) ends.push(pts[pts.length - 1]);
    return ends.some(([ex, ey]) => Math.abs(ex - x) < 6 && Math.abs(ey - y) < 6);
  });
  // Line crossings of a route with the other flows (a new route must not add any).
  const lineCrossings = (fid, pts) => g.flows.filter((o) => o.id !== fid).reduce((n, o) => n + ((out.edges[o.id] || []).slice(1).map((q, i) => [out.edges[o.id][i], q]))
    .reduce((m, [a, b]) => m + pts.slice(1).filter((q, i) => { const p = pts[i];
      const h1 = Math.abs(p[1] - q[1]) < 0.5; const h2 = Math.abs(a[1] - b[1]) < 0.5;
      if (h1 === h2) return false;
      const [hp, hq, vp, vq] = h1 ? [p, q, a, b] : [a, b, p, q];
      return Math.min(hp[0], hq[0]) < vp[0] - 0.5 && vp[0] + 0.5 < Math.max(hp[0], hq[0])
        && Math.min(vp[1], vq[1]) < hp[1] - 0.5 && hp[1] + 0.5 < Math.max(vp[1], vq[1]);
    }).length, 0), 0);
  // The flows off the gateway's middle first, then the middle one (only if its corner is still free).
  const centred = (f) => { const pts = out.edges[f.id] || []; const b = out.nodes[f.source];
    return pts.length && b && Math.abs(pts[0][1] - (b[1] + b[3] / 2)) < 0.5; };
  for (const f of [...g.flows.filter((f) => !centred(f)), ...g.flows.filter(centred)]) {
    if (kindOfNode(f.source) !== 'gateway') continue;
    const pts = out.edges[f.id];
    if (!pts || pts.length < 4) continue;
    const [gx, gy, gw, gh] = out.nodes[f.source];
    const cx = gx + gw / 2;
    const [p0, p1, p2] = pts;
    const eastFirst = Math.abs(p0[1] - p1[1]) < 0.5 && p1[0] > p0[0] + 0.5 && p0[0] >= cx;
    const vertical = Math.abs(p1[0] - p2[0]) < 0.5;
    if (!eastFirst || !vertical) continue;
    const up = p2[1] < p1[1];
    const corner = [cx, up ? gy : gy + gh];
    if ((up && p2[1] >= gy) || (!up && p2[1] <= gy + gh)) continue;
    if (docksAt(f.source, ...corner)) { if (process.env.LAYOUT_DEBUG) console.error('corner taken', f.id); continue; }
    const cand = simplify([corner, [cx, p2[1]], ...pts.slice(3)]);
    if (!crosses(cand, new Set([f.source, f.target])) && !collinearWithOthers(f.id, cand)
      && lineCrossings(f.id, cand) <= lineCrossings(f.id, pts)) out.edges[f.id] = cand;
    else if (process.env.LAYOUT_DEBUG) console.error('corner refused', f.id, crosses(cand, new Set([f.source, f.target])),
      collinearWithOthers(f.id, cand), lineCrossings(f.id, cand), lineCrossings(f.id, pts), JSON.stringify(cand));
  }
  // An exit just off the middle that runs on to the right (a long way, to an end further on) boxes
  // in the middle exit's name: it leaves from the free top (bottom) corner instead, half a gateway
  // above (below) it, and joins its route where that turns.
  for (const f of g.flows) {
    if (kindOfNode(f.source) !== 'gateway') continue;
    const pts = out.edges[f.id];
    if (!pts || pts.length < 3) continue;
    const [gx, gy, gw, gh] = out.nodes[f.source];
    const cx = gx + gw / 2; const cy = gy + gh / 2;
    const [p0, p1] = pts;
    if (!(Math.abs(p0[1] - p1[1]) < 0.5 && p1[0] > p0[0] + gw && p0[0] >= cx) || Math.abs(p0[1] - cy) < 0.5) continue;
    const siblings = g.flows.filter((o) => o.source === f.source && o.id !== f.id && (out.edges[o.id] || []).length
      && out.edges[o.id][0][0] >= cx && Math.abs(out.edges[o.id][0][1] - cy) < gh / 2);
    if (siblings.length < 2) continue;  // only a fan of three or more on the east side
    const up = p0[1] < cy;
    const corner = [cx, up ? gy : gy + gh];
    if (docksAt(f.source, ...corner)) continue;
    const yc = up ? gy - gh / 2 : gy + gh * 1.5;
    const cand = simplify([corner, [cx, yc], [p1[0], yc], ...pts.slice(1)]);
    if (!crosses(cand, new Set([f.source, f.target])) && !collinearWithOthers(f.id, cand)
      && lineCrossings(f.id, cand) <= lineCrossings(f.id, pts)) out.edges[f.id] = cand;
    else if (process.env.LAYOUT_DEBUG) console.error('corner refused (run on)', f.id, crosses(cand, new Set([f.source, f.target])),
      collinearWithOthers(f.id, cand), lineCrossings(f.id, cand), lineCrossings(f.id, pts), JSON.stringify(cand));
  }
}

// --- docking: ELK ends flows on a node's box; gateways and events are drawn as a diamond and a
// circle, so the end segment is extended (along its own direction, staying orthogonal) to the outline.
const kindOf = Object.fromEntries(g.nodes.map((n) => [n.id, n.kind]));
function outlinePoint(box, kind, p, q) {
  // p: end on the box, q: the neighbouring waypoint (the segment runs q -> p into the shape).
  const [x, y, w, h] = box;
  const cx = x + w / 2; const cy = y + h / 2;
  if (kind === 'task') return p;
  const horizontal = Math.abs(p[1] - q[1]) < 0.5;
  if (horizontal) {
    const dy = Math.abs(p[1] - cy);
    let dx;
    if (kind === 'gateway') dx = (w / 2) * Math.max(0, 1 - dy / (h / 2));
    else dx = Math.sqrt(Math.max(0, (w / 2) ** 2 - dy ** 2));
    return [q[0] < cx ? cx - dx : cx + dx, p[1]];
  }
  const dx = Math.abs(p[0] - cx);
  let dy;
  if (kind === 'gateway') dy = (h / 2) * Math.max(0, 1 - dx / (w / 2));
  else dy = Math.sqrt(Math.max(0, (h / 2) ** 2 - dx ** 2));
  return [p[0], q[1] < cy ? cy - dy : cy + dy];
}
for (const f of g.flows) {
  const pts = out.edges[f.id];
  if (!pts || pts.length < 2) continue;
  if (!boundaryById[f.source]) pts[0] = outlinePoint(out.nodes[f.source], kindOf[f.source], pts[0], pts[1]);
  const n = pts.length;
  pts[n - 1] = outlinePoint(out.nodes[f.target], kindOf[f.target], pts[n - 1], pts[n - 2]);
}

// --- drill-down buttons: bpmn-js draws a collapsed sub-process's button (20 x 20 px) just under its
// bottom-right corner (DrilldownOverlayBehavior: bottom -7, right -8, CSS margin-left -20); a flow or
// a name there is hidden under it, or hides it. An inner horizontal stretch of a flow that runs under a
// button (a send-back loop along the row below) moves down past it, where the new route crosses no
// shape, no other button and shares no stretch with another flow; labels below treat buttons as shapes.
const buttons = g.nodes.filter((n) => n.tag === 'subProcess' && out.nodes[n.id])
  .map((n) => { const [x, y, w, h] = out.nodes[n.id]; return [x + w - 12, y + h + 7, 20, 20]; });
const segUnder = (p, q, b) => Math.max(p[0], q[0]) > b[0] && Math.min(p[0], q[0]) < b[0] + b[2]
  && Math.max(p[1], q[1]) > b[1] && Math.min(p[1], q[1]) < b[1] + b[3];
const routeUnderButton = (pts) => pts.slice(1).some((q, i) => buttons.some((b) => segUnder(pts[i], q, b)));
for (const f of g.flows) {
  let pts = out.edges[f.id];
  if (!pts || !buttons.length) continue;
  const skip = new Set([f.source, f.target]);
  // The first stretch, out of a gateway's side, runs under a button: leave from the gateway's bottom
  // corner instead and pass below the button.
  // (A straight flow into a task's side keeps docking there, lower.)
  const straightIntoTask = pts.length === 2 && kindOfNode(f.target) === 'task';
  if ((straightIntoTask || (pts.length >= 3 && Math.abs(pts[1][0] - pts[2][0]) < 0.5))
      && kindOfNode(f.source) === 'gateway' && Math.abs(pts[0][1] - pts[1][1]) < 0.5
      && buttons.some((b) => segUnder(pts[0], pts[1], b))) {
    const [gx, gy, gw, gh] = out.nodes[f.source];
    const cx = gx + gw / 2;
    const bottom = gy + gh;
    const low = Math.max(bottom + 10, ...buttons.filter((b) => segUnder(pts[0], pts[1], b)).map((b) => b[1] + b[3] + 5));
    // Or (the corner taken) leave the side as before and turn down just before the button.
    const [p0, p1] = pts;
    const left = p1[0] < p0[0];
    const near = buttons.filter((b) => segUnder(p0, p1, b))
      .map((b) => (left ? b[0] + b[2] + 12 : b[0] - 12)).sort((a, b2) => (left ? b2 - a : a - b2))[0];
    const tb = out.nodes[f.target];
    const below = buttons.filter((b) => segUnder(p0, p1, b)).map((b) => b[1] + b[3] + 5);
    const ys = (from) => [0, 10, 20, 30, 40, 50, 60].map((d) => from + d)
      .filter((y) => !straightIntoTask || y <= tb[1] + tb[3] - 5);
    const jogs = (left ? near < p0[0] - 5 : near > p0[0] + 5)
      ? ys(Math.max(...below)).map((y) => simplify([p0, [near, p0[1]], [near, y], [p1[0], y], ...pts.slice(2)])) : [];
    const corner = ys(low).map((y) => simplify([[cx, bottom], [cx, y], [pts[1][0], y], ...pts.slice(2)]));
    const found = [...corner, ...jogs].find((cand) => !crosses(cand, skip) && !collinearWithOthers(f.id, cand)
      && !routeUnderButton(cand));
    if (found) pts = found;
  }
  // Any other horizontal stretch under a button moves down past it: an inner one with the vertical
  // stretches on either side, the last (or first) one only while it still docks on its task's side.
  for (let i = 0; i + 1 < pts.length; i += 1) {
    const [p, q] = [pts[i], pts[i + 1]];
    if (Math.abs(p[1] - q[1]) > 0.5) continue;
    const over = buttons.filter((b) => segUnder(p, q, b));
    if (!over.length) continue;
    const low = Math.max(...over.map((b) => b[1] + b[3])) + 5;
    const end = i === 0 ? f.source : i + 2 === pts.length ? f.target : null;
    if (end && (kindOfNode(end) !== 'task' || pts.length < 3)) continue;
    const nb = end && out.nodes[end];
    for (const y of [low, low + 10, low + 20]) {
      if (nb && y > nb[1] + nb[3] - 5) break;
      const cand = pts.map((r, j) => (j === i || j === i + 1 ? [r[0], y] : r));
      if (!crosses(cand, skip) && !collinearWithOthers(f.id, cand) && !routeUnderButton(cand)) {
        pts = cand;
        break;
      }
    }
  }
  out.edges[f.id] = pts;
}

// --- labels. Node labels: where ELK put them (below the event or gateway, kept clear by ELK).
// Flow labels: a designer writes a condition next to the stretch of the flow that is its own,
// right after it leaves the gateway; ELK's end labels all sit in a stack at the gateway, where one
// cannot tell which name belongs to which flow. So each flow label goes beside the first segment
// of its own route that has room and is not shared with another flow, clear of shapes, other
// labels and other flows.
const hit = (a, b) => a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
const allSegsNow = () => g.flows.flatMap((f) => (out.edges[f.id] || []).slice(1).map((q, i) => [f.id, [out.edges[f.id][i], q]]));
const crossesBox = (b, [p, q]) => Math.max(p[0], q[0]) > b[0] && Math.min(p[0], q[0]) < b[0] + b[2]
  && Math.max(p[1], q[1]) > b[1] && Math.min(p[1], q[1]) < b[1] + b[3];
const segsOf = (id) => { const pts = out.edges[id] || []; return pts.slice(1).map((q, i) => [pts[i], q]); };
const segBox = ([p, q]) => [Math.min(p[0], q[0]) - 0.5, Math.min(p[1], q[1]) - 0.5,
  Math.abs(p[0] - q[0]) + 1, Math.abs(p[1] - q[1]) + 1];
const allSegs = g.flows.flatMap((f) => segsOf(f.id).map((sg) => [f.id, sg]));
const nodeBoxes = Object.values(out.nodes);
const placedLabels = Object.entries(out.labels).filter(([id]) => !g.flows.some((f) => f.id === id))
  .map(([, b]) => b);
for (const f of g.flows) {
  if (!f.label) continue;
  const [w, h] = f.label;
  const others = allSegs.filter(([id]) => id !== f.id);
  const shared = (sg) => others.some(([, o]) => {
    const [a, b2] = [segBox(sg), segBox(o)];
    return hit(a, b2) && (a[2] < 2) === (b2[2] < 2);  // collinear overlap
  });
  const candidates = [];
  segsOf(f.id).forEach((sg, i) => {
    const [[x1, y1], [x2, y2]] = sg;
    const horizontal = Math.abs(y1 - y2) < 0.5;
    const len = horizontal ? Math.abs(x2 - x1) : Math.abs(y2 - y1);
    const dir = horizontal ? Math.sign(x2 - x1) : Math.sign(y2 - y1);
    for (const t of [8, 20, 40, Math.max(8, len / 2 - (horizontal ? w : h) / 2)]) {
      if (horizontal) {
        const x = dir > 0 ? x1 + t : x1 - t - w;
        candidates.push({ i, sg, box: [x, y1 - h - 3, w, h] }, { i, sg, box: [x, y1 + 3, w, h] });
      } else {
        const y = dir > 0 ? y1 + t : y1 - t - h;
        candidates.push({ i, sg, box: [x1 + 4, y, w, h] }, { i, sg, box: [x1 - 4 - w, y, w, h] });
      }
    }
  });
  const score = (c) => {
    if (nodeBoxes.some((n) => hit(c.box, n)) || placedLabels.some((l) => hit(c.box, l))) return Infinity;
    const crossings = others.filter(([, o]) => hit(c.box, segBox(o))).length;
    const ownSegs = segsOf(f.id).filter((sg, j) => j !== c.i && hit(c.box, segBox(sg))).length;
    return crossings * 10 + ownSegs * 3 + (shared(c.sg) ? 8 : 0) + c.i * 2;
  };
  let best = null; let bestScore = Infinity;
  for (const c of candidates) {
    const sc = score(c);
    if (sc < bestScore) { best = c; bestScore = sc; }
    if (sc === 0) break;
  }
  if (best) { out.labels[f.id] = best.box; placedLabels.push(best.box); }
}

// Node labels crossed by a flow (a send-back loop leaving a gateway's bottom runs through the name
// below it) move to the first free place around their shape: above, right, left, or further down.
{
  const segHits = (b) => allSegsNow().filter(([, sg]) => crossesBox(b, sg)).length;
  for (const n of [...g.nodes, ...g.boundaries]) {
    const l = out.labels[n.id];
    if (!l || !segHits(l)) continue;
    const [x, y, w, h] = out.nodes[n.id];
    const [lw, lh] = [l[2], l[3]];
    const cands = [[x + w / 2 - lw / 2, y - lh - 4], [x + w + 4, y + h / 2 - lh - 2], [x - lw - 4, y + h / 2 - lh - 2],
      [x + w + 4, y + h + 2], [x - lw - 4, y + h + 2], [x + w / 2 - lw / 2, y + h + 18], [x + w + 4, y - lh - 2],
      [x - lw - 4, y - lh - 2]].map(([cx, cy]) => [cx, cy, lw, lh]);
    const others = Object.entries(out.labels).filter(([id]) => id !== n.id).map(([, b]) => b);
    const free = cands.find((b) => !Object.values(out.nodes).some((nb) => hit(b, nb))
      && !others.some((o) => hit(b, o)) && !segHits(b));
    if (free) out.labels[n.id] = free;
  }
}

// --- labels no flow runs through (engine/layout_check.py: no segment of a flow passes through the
// label of any element but the flow itself, its source's and target's names included). Whatever the
// passes above left crossed — a boundary event's name between the flows of its neighbours, a
// condition on the line of a sibling flow — moves to the first free place: a node's name below,
// above, left, right of its shape (nearest first, then further out), a flow's name beside one of its
// own segments. Free = overlapping no shape, no other label and no flow (a flow's own name may lie
// beside its own line), inside one lane band (it does not straddle a lane border).
{
  const BESIDE_OWN_FLOW = 4;  // the first candidates of a boundary event's name: beside its own flow
  const CLEAR = 3;  // px kept between a moved label and any line or shape (DI is rounded to integers)
  const grow = (b, m) => [b[0] - m, b[1] - m, b[2] + 2 * m, b[3] + 2 * m];
  const flowIds = new Set(g.flows.map((f) => f.id));
  const innerCuts = separators.map((chain) => second.children.find((x) => x.id === chain[0].id).y + 5);
  const segCrosses = (b, [p, q], m) => {
    // Does segment p-q enter box b shrunk by m (m < 0: grown)?
    const [x0, y0, x1, y1] = [b[0] + m, b[1] + m, b[0] + b[2] - m, b[1] + b[3] - m];
    return Math.max(p[0], q[0]) > x0 && Math.min(p[0], q[0]) < x1 && Math.max(p[1], q[1]) > y0 && Math.min(p[1], q[1]) < y1;
  };
  const foreignSegs = (id) => allSegsNow().filter(([fid]) => fid !== id).map(([, sg]) => sg);
  const crossed = (id) => foreignSegs(id).some((sg) => segCrosses(out.labels[id], sg, 1));
  const free = (id, b) => {
    const gb = grow(b, CLEAR);
    if (Object.values(out.nodes).some((nb) => hit(gb, nb)) || buttons.some((bb) => hit(gb, bb))) return false;
    if (Object.entries(out.labels).some(([o, lb]) => o !== id && hit(gb, lb))) return false;
    if (allSegsNow().some(([fid, sg]) => (fid !== id || !flowIds.has(id)) && segCrosses(b, sg, -CLEAR))) return false;
    return !innerCuts.some((c) => b[1] - CLEAR < c && c < b[1] + b[3] + CLEAR);
  };
  const nodeCandidates = (id, lw, lh) => {
    const [x, y, w, h] = out.nodes[id];
    const cx = x + w / 2; const cy = y + h / 2;
    const boundary = boundaryById[id];
    const bottom = boundary ? y + h + 2 : y + h + 4;
    const cands = [];
    // A boundary event's name beside its own flow, just under the event (between the flows of its
    // neighbours when the host carries several events).
    if (boundary) cands.push([cx + 5, bottom], [cx - 5 - lw, bottom], [cx + 5, bottom + 10], [cx - 5 - lw, bottom + 10]);
    if (boundary && cands.length !== BESIDE_OWN_FLOW) throw new Error('BESIDE_OWN_FLOW');
    for (const d of [0, 8, 16, 28, 40, 56]) {
      cands.push([cx - lw / 2, bottom + d]);                             // below
      if (!boundary) cands.push([cx - lw / 2, y - lh - 4 - d]);          // above
      cands.push([x - lw - 4 - d, boundary ? y + h - 4 : cy + 4]);       // left (under a flow at mid-height)
      cands.push([x + w + 4 + d, boundary ? y + h - 4 : cy + 4]);        // right
      if (!boundary) {
        cands.push([x - lw - 4 - d, cy - lh - 4]);
        cands.push([x + w + 4 + d, cy - lh - 4]);
      }
      cands.push([x + w + 2 + d, bottom + d], [x - lw - 2 - d, bottom + d]);  // below right, below left
    }
    return cands.map(([a, b2]) => [a, b2, lw, lh]);
  };
  const flowCandidates = (id, lw, lh) => {
    const cands = [];
    segsOf(id).forEach(([[x1, y1], [x2, y2]]) => {
      const horizontal = Math.abs(y1 - y2) < 0.5;
      const len = horizontal ? Math.abs(x2 - x1) : Math.abs(y2 - y1);
      const dir = horizontal ? Math.sign(x2 - x1) : Math.sign(y2 - y1);
      const size = horizontal ? lw : lh;
      for (let t = 6; t + size <= len - 4 || t === 6; t += 10) {
        if (horizontal) {
          const xx = dir > 0 ? x1 + t : x1 - t - lw;
          cands.push([xx, y1 - lh - 4, lw, lh], [xx, y1 + 4, lw, lh]);
        } else {
          const yy = dir > 0 ? y1 + t : y1 - t - lh;
          cands.push([x1 + 5, yy, lw, lh], [x1 - 5 - lw, yy, lw, lh]);
        }
      }
    });
    return cands;
  };
  for (let round = 0; round < 3; round += 1) {
    const todo = Object.keys(out.labels).filter((id) => crossed(id) || buttons.some((bb) => hit(out.labels[id], bb)));
    if (!todo.length) break;
    for (const id of todo) {
      if (!crossed(id) && !buttons.some((bb) => hit(out.labels[id], bb))) continue;  // an earlier move may have freed it
      const [, , lw, lh] = out.labels[id];
      const cands = flowIds.has(id) ? flowCandidates(id, lw, lh) : nodeCandidates(id, lw, lh);
      const at = cands.findIndex((b) => free(id, b));
      if (at >= 0) out.labels[id] = cands[at];
      if (at < 0 && round === 2) out.unplaced.push(id);
      // A boundary event's name that found room only away from its own flow (its neighbours' flows
      // run down closer than the name is wide): relayout.py draws the host wider and lays out again.
      if (at >= BESIDE_OWN_FLOW && boundaryById[id]) out.cramped.push(id);
      else if (process.env.LAYOUT_DEBUG) {
        console.error('no free place for the label of', id, JSON.stringify(out.labels[id]), 'cuts', innerCuts);
        for (const b of cands.filter((c, i) => i < 6 || process.env.LAYOUT_DEBUG_ALL)) {
          const gb = grow(b, CLEAR);
          console.error('  cand', JSON.stringify(b), 'nodes', Object.entries(out.nodes).filter(([, nb]) => hit(gb, nb)).map(([k]) => k),
            'labels', Object.entries(out.labels).filter(([o, lb]) => o !== id && hit(gb, lb)).map(([k]) => k),
            'flows', allSegsNow().filter(([fid, sg]) => (fid !== id || !flowIds.has(id)) && segCrosses(b, sg, -CLEAR)).map(([k]) => k));
        }
      }
    }
  }
}

// --- lanes and pool: bands split at the separators, spanning the whole drawing
const all = [];
for (const b of Object.values(out.nodes)) all.push(b);
for (const b of Object.values(out.labels)) all.push(b);
for (const pts of Object.values(out.edges)) for (const [x, y] of pts) all.push([x, y, 0, 0]);
const minX = Math.min(...all.map((b) => b[0])); const maxX = Math.max(...all.map((b) => b[0] + b[2]));
const minY = Math.min(...all.map((b) => b[1])); const maxY = Math.max(...all.map((b) => b[1] + b[3]));
const PAD = 25;
const cuts = [minY - PAD, ...separators.map((chain) => second.children.find((x) => x.id === chain[0].id).y + 5),
  maxY + PAD];
// Shift everything so the pool starts at (POOL_X, POOL_Y) as modelers draw it.
const POOL_X = 30; const POOL_Y = 30;
const dx = POOL_X + POOL_HEADER + LANE_HEADER + PAD - minX; const dy = POOL_Y - cuts[0];
const mv = (b) => [b[0] + dx, b[1] + dy, b[2], b[3]];
for (const k of Object.keys(out.nodes)) out.nodes[k] = mv(out.nodes[k]);
for (const k of Object.keys(out.labels)) out.labels[k] = mv(out.labels[k]);
for (const k of Object.keys(out.edges)) out.edges[k] = out.edges[k].map(([x, y]) => [x + dx, y + dy]);
const width = (maxX + dx) + PAD - POOL_X;
if (g.pool) out.pool = [POOL_X, POOL_Y, width, cuts[cuts.length - 1] - cuts[0]];
// A sub-process plane has lanes of its own but no pool: its lanes are drawn where a pool's would be.
if (g.lanes.length) {
  g.lanes.forEach((l, i) => {
    out.lanes[l.id] = [POOL_X + POOL_HEADER, cuts[i] + dy, width - POOL_HEADER, cuts[i + 1] - cuts[i]];
  });
}
if (process.env.LAYOUT_DEBUG) {
  for (const c of second.children) console.error(c.id, Math.round(c.x), Math.round(c.y), columnOf[c.id] ?? c.layoutOptions?.['elk.partitioning.partition'], c.layoutOptions?.['elk.layered.crossingMinimization.inLayerSuccOf'] || '');
}
process.stdout.write(JSON.stringify(out));
