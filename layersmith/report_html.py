"""The report as one self-contained HTML file: inline CSS, inline JS, inline SVG, no network.

The data is embedded once, as JSON in a `<script type="application/json">`, and a small inline
script draws the tables and the SVG treemaps from it when the page opens: a fleet's matrix is
tens of thousands of cells, and its data is several times smaller than the same cells as markup
(the file must stay under 2 MB). The treemap rectangles are laid out in Python (`treemap.py`), so
the browser only draws them. `</` is escaped inside the JSON so no value can close the script.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from layersmith.stack_edit import write_atomic
from layersmith.writable import require_writable_file

MAX_BYTES = 2_000_000

_CSS = """
:root{--fg:#1d2330;--muted:#5b6474;--line:#dfe3ea;--bg:#f6f7f9;--card:#fff;--current:#2e9e5b;--latest:#2b7bb9;
--behind:#e0a100;--far:#d64545;--unknown:#9aa3b1}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:var(--fg);background:var(--bg)}header{padding:18px 28px 10px;background:#1d2330;color:#fff}
header h1{margin:0;font-size:20px;font-weight:600}header .meta{color:#b9c1cf;font-size:12.5px;margin-top:4px}
main{padding:14px 28px 28px}section{background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:14px 18px;margin:0 0 16px}h2{font-size:16px;margin:0 0 10px}h3{font-size:13.5px;margin:14px 0 6px}
.notes{margin:0 0 12px;padding:0 0 0 18px;color:var(--muted);font-size:12.5px}
table{border-collapse:collapse;font-size:13px}th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;
white-space:nowrap}th{background:#eef1f5;font-weight:600;position:sticky;top:0}
td.cell{text-align:center;font-variant-numeric:tabular-nums;font-weight:600;border-left:3px solid #fff}
td.s-current{background:#def3e6;color:#1d6b3d}td.s-latest{background:#dceaf6;color:#1f5a89}
td.s-behind{background:#fcefc7;color:#7a5800}td.s-far{background:#f8d7d7;color:#8e2323}
td.s-unknown{background:#eceef2;color:#4a5261}td.s-na{color:#c3c8d1;font-weight:400}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12.5px;color:var(--muted);margin:0 0 10px}
.legend span::before{content:"";display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;
vertical-align:-1px;background:var(--c)}.badge{display:inline-block;font-size:11px;padding:0 6px;border-radius:9px;
background:#efe3fb;color:#5b2a86;margin-left:6px}.scroll{overflow:auto;max-height:560px}
.maps{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:16px}
.map svg{width:100%;height:auto;display:block;border-radius:4px}.map .cap{font-size:12.5px;color:var(--muted)}
.map text{font-size:13px;fill:#fff;pointer-events:none}.unbuilt{color:var(--muted);font-style:italic}
.bar{display:inline-block;width:160px;height:10px;background:#eceef2;border-radius:5px;vertical-align:middle;
overflow:hidden}.bar i{display:block;height:100%;background:var(--latest)}.bar i.hi{background:var(--far)}
code{font-size:12px}.differs{color:var(--far);font-weight:600}.same{color:var(--current);font-weight:600}
"""

_JS = r"""
(function(){
const D=JSON.parse(document.getElementById('report-data').textContent);
const el=(t,a,...k)=>{const e=document.createElement(t);for(const [n,v] of Object.entries(a||{})){
 if(n==='text')e.textContent=v;else e.setAttribute(n,v)}for(const c of k)e.append(c);return e};
const mb=b=>b==null?'?':(b/1e6).toFixed(1)+' MB';
const pct=x=>(100*x).toFixed(1)+'%';
// the matrix: one cell for every (row, column), "-" where the function does not attach the variant
const m=document.getElementById('matrix');
const head=el('tr',{},el('th',{text:'where'}),el('th',{text:'function'}));
for(const c of D.columns)head.append(el('th',{text:c.layer+' '+c.variant}));
const thead=el('thead',{},head),tbody=el('tbody');
D.rows.forEach((r,i)=>{const fn=el('td',{text:r.function});
 if(r.foreign)fn.append(el('span',{class:'badge',text:'foreign'}));
 const tr=el('tr',{class:'row','data-row':i,'data-function':r.function},el('td',{text:r.where}),fn);
 for(const c of D.columns){const v=r.cells[c.id];
  const td=el('td',{class:'cell s-'+(v?v.state:'na'),'data-col':c.id,'data-row':i,
   text:v?v.text:'\u2013'});
  if(v)td.title=v.layer_name+(v.behind==null?'':' \u2014 '+v.behind+' behind');tr.append(td)}
 tbody.append(tr)});
m.append(thead,tbody);
// treemaps, laid out in Python; each rectangle carries its bytes
const colours=['#3b6fb6','#2e9e8f','#7a5bb5','#c9643b','#4f8f3a','#b5487a','#5c7a99','#a68a2d','#3d8fb8','#8a5a44'];
const maps=document.getElementById('maps');
for(const t of D.treemaps){const box=el('div',{class:'map'});
 box.append(el('h3',{text:t.column}));
 if(!t.built){box.append(el('div',{class:'unbuilt',text:t.note}));maps.append(box);continue}
 box.append(el('div',{class:'cap',text:mb(t.bytes)+' unzipped ('+pct(t.share)+' of the 250 MB budget), '+
  mb(t.zip_bytes)+' zipped'}));
 const ns='http://www.w3.org/2000/svg',svg=document.createElementNS(ns,'svg');
 svg.setAttribute('viewBox','0 0 1000 320');svg.setAttribute('class','treemap');
 svg.setAttribute('data-column',t.column);svg.setAttribute('data-bytes',t.bytes);
 t.rects.forEach((r,i)=>{const g=document.createElementNS(ns,'g'),rc=document.createElementNS(ns,'rect');
  for(const [k,v] of Object.entries({x:r.x,y:r.y,width:r.w,height:r.h,fill:colours[i%colours.length],
   stroke:'#fff','stroke-width':2,'data-bytes':r.bytes,'data-name':r.name}))rc.setAttribute(k,v);
  const tip=document.createElementNS(ns,'title');tip.textContent=r.name+': '+mb(r.bytes);rc.append(tip);g.append(rc);
  if(r.w>90&&r.h>34){const tx=document.createElementNS(ns,'text');tx.setAttribute('x',r.x+8);
   tx.setAttribute('y',r.y+20);tx.textContent=r.name;const t2=document.createElementNS(ns,'text');
   t2.setAttribute('x',r.x+8);t2.setAttribute('y',r.y+37);t2.textContent=mb(r.bytes);g.append(tx,t2)}
  svg.append(g)});
 box.append(svg);maps.append(box)}
const bud=document.getElementById('budget');
bud.append(el('tr',{},...['stack','function','layers, unzipped','of 250 MB',''].map(h=>el('th',{text:h}))));
for(const b of D.budget){const bar=el('span',{class:'bar'},el('i',{class:b.share>0.8?'hi':'',
  style:'width:'+Math.min(100,100*b.share).toFixed(1)+'%'}));
 bud.append(el('tr',{},el('td',{text:b.stack}),el('td',{text:b.function}),el('td',{text:mb(b.bytes)+
  (b.complete?'':' + unbuilt')}),el('td',{text:pct(b.share)}),el('td',{},bar)))}
const gr=document.getElementById('grants');
if(!D.grants.length)gr.append(el('tr',{},el('td',{text:'no version is shared'})));
else if('version' in D.grants[0]){
 gr.append(el('tr',{},...['layer version','where','shared with'].map(h=>el('th',{text:h}))));
 for(const g of D.grants)gr.append(el('tr',{class:'grant'},el('td',{text:g.layer_name+':'+g.version}),
  el('td',{text:g.account+'/'+g.region}),el('td',{text:g.shared_with.map(s=>g.unmanaged.includes(s)?s+'*':s).join(', ')})))}
else{gr.append(el('tr',{},...['stack','layers','regions','shared with'].map(h=>el('th',{text:h}))));
 for(const g of D.grants)gr.append(el('tr',{class:'grant'},el('td',{text:g.stack}),el('td',{text:g.layers.join(', ')}),
  el('td',{text:g.regions.join(', ')}),el('td',{text:g.shared_with.join(', ')})))}
const dr=document.getElementById('drift');
if(!D.drift.length)dr.append(el('tr',{},el('td',{text:'no pin names versions in several regions'})));
else{dr.append(el('tr',{},...['stack','function','layer','pins','CodeSha256 per region','content'].map(h=>el('th',{text:h}))));
 for(const d of D.drift){const sh=Object.entries(d.code_sha256).map(([r,s])=>r+': '+(s?s.slice(0,12)+'\u2026':'?')).join('  ');
  dr.append(el('tr',{class:'drift'},el('td',{text:d.stack}),el('td',{text:d.function}),el('td',{text:d.layer_name}),
   el('td',{text:Object.entries(d.pins).map(([r,v])=>r+' v'+v).join(', ')}),el('td',{},el('code',{text:sh})),
   el('td',{class:d.status,text:d.status==='unknown'?'unknown offline (--online)':d.status})))}}
document.body.setAttribute('data-rendered','yes');
})();
"""


def _meta(data: dict[str, Any]) -> str:
    src = data["sources"]
    fleet = f"inventory {src['inventory']}" if src["inventory"] else "project only (offline)"
    return (f"generated {data['generated']} · stacks {', '.join(data['stacks'])} · {fleet}"
            f"{' · contents read online' if src['online'] else ''}")


def render_html(data: dict[str, Any]) -> str:
    from html import escape

    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")
    notes = "".join(f"<li>{escape(n)}</li>" for n in data["notes"])
    legend = "".join(f'<span style="--c:var(--{k})">{escape(t)}</span>' for k, t in (
        ("current", "at the newest version"), ("latest", "follows latest"), ("behind", "1 version behind"),
        ("far", "2 or more behind"), ("unknown", "newest not known")))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>layersmith report: {escape(data['project'])}</title><style>{_CSS}</style></head>
<body><header><h1>Layers of {escape(data['project'])}</h1><div class="meta">{escape(_meta(data))}</div></header>
<main><ul class="notes">{notes}</ul>
<section><h2>Who runs which version</h2><div class="legend">{legend}</div>
<div class="scroll"><table id="matrix"></table></div></section>
<section><h2>What the layers weigh</h2><div class="maps" id="maps"></div>
<h3>Each function's layers against the 250 MB unzipped budget</h3><table id="budget"></table></section>
<section><h2>Who can read which version</h2><table id="grants"></table></section>
<section><h2>Content drift between regions</h2><table id="drift"></table></section>
</main><script type="application/json" id="report-data">{payload}</script><script>{_JS}</script></body></html>
"""


def write_report(path: Path, text: str) -> None:
    """Atomically, like the stack files: an interrupted run leaves the previous report."""
    require_writable_file(path, what="the report", remedy="pass another --output")
    write_atomic(path, text)
