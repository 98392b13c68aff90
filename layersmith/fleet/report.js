(function(){
const D=JSON.parse(document.getElementById('report-data').textContent);
const el=(t,a,...k)=>{const e=document.createElement(t);for(const [n,v] of Object.entries(a||{})){
 if(n==='text')e.textContent=v;else e.setAttribute(n,v)}for(const c of k)e.append(c);return e};
const mb=b=>b==null?'?':(b/1e6).toFixed(1)+' MB';
const pct=x=>(100*x).toFixed(1)+'%';
// the matrix: one cell for every (row, column), "-" where the function does not attach the variant.
// The stacks' functions in one table; the fleet's in one folded table per account: a closed
// <details> is not laid out, and laying out a 100-account fleet's 20,000 cells at once took seconds.
// Built as strings, one innerHTML per table, for the same reason.
const esc=x=>String(x).replace(/[&<>"]/g,ch=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'})[ch]);
const cols=D.columns.map(c=>[c.id,' data-col="'+esc(c.id)+'"']);
const head='<thead><tr><th>where</th><th>function</th>'+D.columns.map(c=>'<th>'+esc(c.layer+' '+c.variant)+
 '</th>').join('')+'</tr></thead>';
// within an account's table the account goes without saying: the region is enough
const row=(r,i)=>{let h='<tr class="row" data-row="'+i+'" data-function="'+esc(r.function)+'"><td>'+
 esc(r.origin==='stack'?r.where:r.region)+'</td><td>'+esc(r.function)+(r.foreign?'<span class="badge">foreign</span>':'')+'</td>';
 for(const [id,attr] of cols){const v=r.cells[id];
  h+=v?'<td class="cell s-'+v.state+'"'+attr+' data-row="'+i+'" title="'+esc(v.layer_name+
   (v.behind==null?'':' \u2014 '+v.behind+' behind'))+'">'+esc(v.text)+'</td>'
   :'<td class="cell s-na"'+attr+' data-row="'+i+'">\u2013</td>'}
 return h+'</tr>'};
const table=rows=>'<table class="matrix">'+head+'<tbody>'+rows.map(([r,i])=>row(r,i)).join('')+'</tbody></table>';
const indexed=D.rows.map((r,i)=>[r,i]);
const stackRows=indexed.filter(([r])=>r.origin==='stack'),accounts=new Map();
for(const [r,i] of indexed)if(r.origin!=='stack'){if(!accounts.has(r.account))accounts.set(r.account,[]);
 accounts.get(r.account).push([r,i])}
const summary=rows=>{const n={};for(const [r] of rows)for(const v of Object.values(r.cells))n[v.state]=(n[v.state]||0)+1;
 return ['current','latest','behind','far','unknown'].filter(k=>n[k]).map(k=>'<span class="tally s-'+k+'">'+n[k]+' '+
  ({current:'current',latest:'on latest',behind:'behind by 1',far:'behind by 2+',unknown:'newest unknown'})[k]+'</span>').join('')};
let html=stackRows.length?'<h3>Committed stacks</h3>'+table(stackRows):'';
if(accounts.size)html+='<h3>The fleet: '+accounts.size+' account(s), '+(D.rows.length-stackRows.length)+
 ' function(s) attaching a version (open an account)</h3>';
let shown=0;  // a small fleet opens whole; a large one shows its first account
for(const [account,rows] of accounts){const foreign=rows.filter(([r])=>r.foreign).length;
 const open=accounts.size<=5||shown++<1?' open':'';
 html+='<details class="account"'+open+'><summary><b>'+esc(account)+'</b> \u00b7 '+rows.length+' function(s)'+
  (foreign?', '+foreign+' foreign':'')+' '+summary(rows)+'</summary>'+table(rows)+'</details>'}
document.getElementById('matrix').innerHTML=html;
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
  if(r.w>150&&r.h>60){const tx=document.createElementNS(ns,'text');tx.setAttribute('x',r.x+10);
   tx.setAttribute('y',r.y+28);tx.textContent=r.name;const t2=document.createElementNS(ns,'text');
   t2.setAttribute('x',r.x+10);t2.setAttribute('y',r.y+54);t2.textContent=mb(r.bytes);g.append(tx,t2)}
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
else{gr.append(el('tr',{},...['what','where','shared with','from'].map(h=>el('th',{text:h}))));
 for(const g of D.grants)gr.append(el('tr',{class:'grant'},el('td',{text:g.what}),el('td',{text:g.where}),
  el('td',{text:g.shared_with.map(s=>g.unmanaged.includes(s)?s+' *':s).join(', ')}),el('td',{text:g.source})))}
const dr=document.getElementById('drift');
if(!D.drift.length)dr.append(el('tr',{},el('td',{text:'no pin names versions in several regions'})));
else{dr.append(el('tr',{},...['stack','function','layer','pins','CodeSha256 per region','content'].map(h=>el('th',{text:h}))));
 for(const d of D.drift){const sh=Object.entries(d.code_sha256).map(([r,s])=>r+': '+(s?s.slice(0,12)+'\u2026':'?')).join('  ');
  dr.append(el('tr',{class:'drift'},el('td',{text:d.stack}),el('td',{text:d.function}),el('td',{text:d.layer_name}),
   el('td',{text:Object.entries(d.pins).map(([r,v])=>r+' v'+v).join(', ')}),el('td',{},el('code',{text:sh})),
   el('td',{class:d.status,text:d.status==='unknown'?'unknown offline (--online)':d.status})))}}
document.body.setAttribute('data-rendered','yes');
// milliseconds from navigation start to a drawn page: bench/report.py reads it from the DOM
void document.body.offsetHeight;  // force the layout, so it is counted too
document.body.setAttribute('data-render-ms',Math.round(performance.now()));
})();
