// The status page the agent serves at `/`: the member table as this member sees it, kept live by
// server-sent events from /v1/events, states coloured, resources as bars, recent changes listed.
// Plain HTML and one small script (served as /status.js so the page runs under a strict
// Content-Security-Policy). Every value a peer controls (names, tags) goes in through
// textContent, never as HTML.

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Constellation</title>
<style>
  :root { --alive: #1a7f37; --suspect: #bf8700; --dead: #cf222e; --left: #6e7781; --fg: #1f2328; --muted: #656d76; }
  body { font: 14px/1.4 system-ui, sans-serif; color: var(--fg); margin: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  .sub { color: var(--muted); margin-bottom: 1rem; }
  .sub span { margin-right: 1.2rem; }
  #feed[data-live="true"] { color: var(--alive); }
  #feed[data-live="false"] { color: var(--dead); }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: middle; }
  th { font-weight: 600; color: var(--muted); }
  tr.self td:first-child::after { content: " (this member)"; color: var(--muted); font-weight: normal; }
  .state { display: inline-block; min-width: 4.5rem; padding: 0 .5rem; border-radius: 1rem; color: #fff; text-align: center; }
  .state.alive { background: var(--alive); } .state.suspect { background: var(--suspect); }
  .state.dead { background: var(--dead); } .state.left { background: var(--left); }
  tr[data-state="dead"] td, tr[data-state="left"] td { color: var(--muted); }
  .bar { position: relative; width: 9rem; height: 1rem; background: #eaeef2; border-radius: 3px; overflow: hidden; }
  .bar > i { position: absolute; inset: 0 auto 0 0; background: #54aeff; }
  .bar > b { position: relative; font-weight: normal; font-size: 11px; padding-left: .3rem; }
  .tag { display: inline-block; background: #ddf4ff; border-radius: 3px; padding: 0 .3rem; margin: 0 .2rem .1rem 0; font-size: 12px; }
  #recent { list-style: none; padding: 0; font-family: ui-monospace, monospace; font-size: 12px; }
  #recent li { padding: .1rem 0; }
  #recent .t { color: var(--muted); margin-right: .6rem; }
  h2 { font-size: 1rem; margin-top: 1.5rem; }
</style>
</head>
<body>
<h1>Constellation <span id="cluster"></span></h1>
<div class="sub">
  <span>member <b id="local"></b></span>
  <span id="counts"></span>
  <span>incarnation <b id="incarnation">-</b></span>
  <span>health <b id="health">-</b></span>
  <span id="feed" data-live="false">connecting</span>
</div>
<table>
  <thead><tr><th>name</th><th>address</th><th>state</th><th>incarnation</th><th>instances</th><th>CPU used</th><th>RAM used</th><th>tags</th><th>last change</th></tr></thead>
  <tbody id="members"></tbody>
</table>
<h2>Recent changes</h2>
<ul id="recent"></ul>
<script src="/status.js"></script>
</body>
</html>
`;

export const STATUS_PAGE_SCRIPT = `'use strict';
(function () {
  var members = new Map();
  var local = '';
  var RECENT = 30;
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function bar(used, total, unit) {
    var wrap = el('div', 'bar');
    var fill = el('i');
    var share = total > 0 ? Math.min(1, Math.max(0, used / total)) : 0;
    fill.style.width = (share * 100).toFixed(1) + '%';
    wrap.appendChild(fill);
    wrap.appendChild(el('b', '', total > 0 ? round(used) + ' / ' + round(total) + unit : 'none'));
    wrap.title = total > 0 ? Math.round(share * 100) + '% used' : 'not announced';
    return wrap;
  }
  function round(x) { return Math.round(x * 100) / 100; }
  function ago(ms) {
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    return Math.floor(s / 3600) + ' h ago';
  }
  function address(m) { return m.address.indexOf(':') >= 0 ? '[' + m.address + ']:' + m.port : m.address + ':' + m.port; }
  function render() {
    var body = document.getElementById('members');
    var rows = [];
    var sorted = Array.from(members.values()).sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
    var counts = { alive: 0, suspect: 0, dead: 0, left: 0 };
    sorted.forEach(function (m) {
      counts[m.state] = (counts[m.state] || 0) + 1;
      var tr = el('tr', m.name === local ? 'self' : '');
      tr.dataset.member = m.name;
      tr.dataset.state = m.state;
      var r = m.resources;
      tr.appendChild(el('td', '', m.name));
      tr.appendChild(el('td', '', address(m)));
      var st = el('td');
      st.appendChild(el('span', 'state ' + m.state, m.state));
      tr.appendChild(st);
      tr.appendChild(el('td', '', String(m.incarnation)));
      [[r.currentInstances, r.maxInstances, ''], [r.cpuTotal - r.cpuAvailable, r.cpuTotal, ' CPU'], [r.ramTotalMb - r.ramAvailableMb, r.ramTotalMb, ' MiB']].forEach(function (b) {
        var td = el('td');
        td.appendChild(bar(b[0], b[1], b[2]));
        tr.appendChild(td);
      });
      var tags = el('td');
      Object.keys(m.tags).sort().forEach(function (k) { tags.appendChild(el('span', 'tag', k + '=' + m.tags[k])); });
      tr.appendChild(tags);
      var changed = el('td', 'changed', ago(m.stateChangedAt));
      changed.dataset.at = String(m.stateChangedAt);
      tr.appendChild(changed);
      rows.push(tr);
    });
    body.replaceChildren.apply(body, rows);
    document.getElementById('counts').textContent =
      sorted.length + ' members: ' + counts.alive + ' alive, ' + counts.suspect + ' suspect, ' + counts.dead + ' dead, ' + counts.left + ' left';
  }
  function addRecent(event) {
    var list = document.getElementById('recent');
    var li = el('li');
    li.dataset.type = event.type;
    li.dataset.member = event.member.name;
    li.appendChild(el('span', 't', new Date(event.at).toLocaleTimeString()));
    li.appendChild(document.createTextNode(event.type + ' ' + event.member.name + ' (incarnation ' + event.member.incarnation + ', ' + event.member.state + ')'));
    list.insertBefore(li, list.firstChild);
    while (list.children.length > RECENT) list.removeChild(list.lastChild);
  }
  function connect() {
    var feed = new EventSource('/v1/events');
    var status = document.getElementById('feed');
    feed.addEventListener('snapshot', function (e) {
      var data = JSON.parse(e.data);
      local = data.name;
      document.getElementById('cluster').textContent = data.clusterName;
      document.getElementById('local').textContent = data.name + ' (' + data.address + ')';
      document.title = 'Constellation: ' + data.name;
      members = new Map();
      data.members.forEach(function (m) { members.set(m.name, m); });
      document.getElementById('recent').replaceChildren();
      data.recent.forEach(addRecent);
      status.dataset.live = 'true';
      status.textContent = 'live';
      render();
    });
    feed.addEventListener('member', function (e) {
      var event = JSON.parse(e.data);
      members.set(event.member.name, event.member);
      addRecent(event);
      render();
    });
    feed.addEventListener('stats', function (e) {
      var s = JSON.parse(e.data);
      document.getElementById('incarnation').textContent = String(s.incarnation);
      document.getElementById('health').textContent = String(s.healthScore);
    });
    feed.onerror = function () {
      status.dataset.live = 'false';
      status.textContent = 'disconnected, retrying';
    };
  }
  setInterval(function () {
    document.querySelectorAll('td.changed').forEach(function (td) { td.textContent = ago(Number(td.dataset.at)); });
  }, 1000);
  connect();
})();
`;
