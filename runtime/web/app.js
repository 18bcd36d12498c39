// The status page: polls /status every second, keeps the last 5 minutes of answers
// in memory and draws them with Chart.js (loaded before this file as window.Chart).
// Nothing is stored outside this page; a reload starts a new history.
//
// For tests and scripts, <ul id="render-state"> says what was drawn: its data-polls,
// data-failures and data-reachable attributes, and one <li data-chart data-points
// data-datasets> per chart, updated each time that chart draws.
'use strict';

(() => {
  const POLL_MS = 1000;
  const TIMEOUT_MS = 2500;
  const HISTORY_MS = 5 * 60 * 1000;
  const SERVICES = ['sync', 'tokens', 'hotkeys'];
  const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2',
                  '#db2777', '#4b5563'];

  // Oldest first; `s` is the /status answer, or null for a poll that failed.
  const samples = [];
  const charts = {};
  let polls = 0;
  let failures = 0;
  let lastAnswer = null;

  const $ = (id) => document.getElementById(id);

  // -- formatting -------------------------------------------------------------

  const clock = (ms) => new Date(ms).toLocaleTimeString([], {hour12: false});

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
    const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    if (d) return `${d}d ${h}h`;
    if (h) return `${h}h ${m}m`;
    if (m) return `${m}m ${s}s`;
    return `${s}s`;
  }

  const number = (v) => (v === undefined || v === null ? '' : Number(v).toLocaleString());

  function fillRows(tbody, rows) {
    tbody.replaceChildren(...rows.map(({cells, data, cls}) => {
      const tr = document.createElement('tr');
      Object.assign(tr.dataset, data || {});
      cells.forEach((text, i) => {
        const td = document.createElement('td');
        td.textContent = text;
        if (cls && cls[i]) td.className = cls[i];
        tr.appendChild(td);
      });
      return tr;
    }));
  }

  // -- charts -----------------------------------------------------------------

  function renderState(id) {
    let li = document.querySelector(`#render-state li[data-chart="${id}"]`);
    if (!li) {
      li = document.createElement('li');
      li.dataset.chart = id;
      $('render-state').appendChild(li);
    }
    return li;
  }

  // Records what each chart really drew: points that are not gaps.
  const drawnCounter = {
    id: 'drawnCounter',
    afterDraw(chart) {
      let points = 0, datasets = 0;
      chart.data.datasets.forEach((ds, i) => {
        const drawn = chart.getDatasetMeta(i).data.filter((el) => !el.skip).length;
        points += drawn;
        if (drawn) datasets += 1;
      });
      const li = renderState(chart.canvas.id);
      li.dataset.points = points;
      li.dataset.datasets = datasets;
    },
  };

  // A line chart over time; `y` (and `y1`, a second axis on the right) are the
  // axis' title and any other Chart.js scale options.
  function lineChart(canvas, {y, y1}) {
    const axis = ({title, ...rest}, extra) => Object.assign(
      {beginAtZero: true, grace: '5%', title: {display: true, text: title}}, extra, rest);
    const scales = {
      x: {
        type: 'linear',
        ticks: {callback: (v) => clock(v), maxRotation: 0, autoSkipPadding: 24},
        grid: {display: false},
      },
      y: axis(y),
    };
    if (y1) scales.y1 = axis(y1, {position: 'right', grid: {drawOnChartArea: false}});
    return new Chart(canvas, {
      type: 'line',
      data: {datasets: []},
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        spanGaps: false,
        interaction: {mode: 'nearest', axis: 'x', intersect: false},
        elements: {point: {radius: 0, hitRadius: 6}, line: {borderWidth: 2}},
        scales,
        plugins: {
          legend: {position: 'bottom', labels: {boxWidth: 12, boxHeight: 2}},
          tooltip: {callbacks: {title: (items) => clock(items[0].parsed.x)}},
        },
      },
      plugins: [drawnCounter],
    });
  }

  function chartFor(id, spec) {
    if (!charts[id]) charts[id] = lineChart($(id), spec);
    return charts[id];
  }

  // Updates the chart's datasets in place (so a series hidden from the legend stays
  // hidden), keyed by label, and fits the time axis to the history.
  function draw(chart, series, from, to) {
    const keep = new Set(series.map((s) => s.label));
    chart.data.datasets = chart.data.datasets.filter((d) => keep.has(d.label));
    series.forEach(({color, ...s}, i) => {
      let d = chart.data.datasets.find((x) => x.label === s.label);
      if (!d) {
        const c = color || COLORS[i % COLORS.length];
        d = {borderColor: c, backgroundColor: c};
        chart.data.datasets.push(d);
      }
      Object.assign(d, s);
    });
    chart.options.scales.x.min = from;
    chart.options.scales.x.max = to;
    chart.update('none');
  }

  // One point per sample: `f(status)` or a gap where it gives nothing.
  function points(f) {
    return samples.map(({t, s}) => {
      const v = s ? f(s) : undefined;
      return {x: t, y: v === undefined || v === null ? null : v};
    });
  }

  function namesIn(service) {
    const names = new Set();
    samples.forEach(({s}) => Object.keys((s && s[service]) || {}).forEach((n) => names.add(n)));
    return [...names].sort();
  }

  // -- sections ---------------------------------------------------------------

  // Shows a service's section when the node runs it, else says it does not.
  function configured(s, service) {
    const section = $(service);
    const value = s[service];
    const on = value !== undefined && Object.keys(value).length > 0;
    section.querySelector('.on').hidden = !on;
    const off = section.querySelector('.off');
    off.hidden = on;
    off.textContent = value === undefined ? 'Not configured on this node.'
                                          : 'Configured, but none runs on this node.';
    section.classList.toggle('disabled', !on);
    return on;
  }

  function renderCluster(s, reachable) {
    const rows = [{
      cells: [s.node, 'this node', reachable ? 'up' : 'unreachable',
              reachable ? `uptime ${duration(s.uptime_s)}` : `last answer ${clock(lastAnswer)}`],
      data: {node: s.node, state: reachable ? 'up' : 'unreachable'},
      cls: [null, null, reachable ? 'up' : 'down'],
    }];
    (s.peers || []).forEach((p) => rows.push({
      cells: [p.name, 'peer', p.state,
              p.since_ms ? `${clock(p.since_ms)} (${duration((Date.now() - p.since_ms) / 1000)} ago)`
                         : 'never seen'],
      data: {node: p.name, state: p.state},
      cls: [null, null, p.state === 'up' ? 'up' : 'down'],
    }));
    fillRows($('nodes'), rows);
    $('cluster').classList.toggle('stale', !reachable);
  }

  function renderSync(s, from, to) {
    const names = namesIn('sync');
    const of = (n, field) => (x) => x.sync && x.sync[n] && x.sync[n][field];
    draw(chartFor('chart-sync-rows', {y: {title: 'rows/s'}}),
         names.map((n) => ({label: n, data: points(of(n, 'rows_per_second'))})), from, to);
    draw(chartFor('chart-sync-lag', {y: {title: 'seconds'}}),
         names.map((n) => ({label: n, data: points(of(n, 'lag_seconds'))})), from, to);
    fillRows($('pipelines'), Object.entries(s.sync).map(([n, p]) => ({
      // A standby (the pipeline runs on another node) has no positions or counts.
      cells: [n, p.state,
              p.target ? `${p.target.kind} ${p.target.endpoint || ''}`.trim() : '',
              (p.owner || 'none') + (p.standbys && p.standbys.length
                                       ? ` (standby: ${p.standbys.join(', ')})` : ''),
              p.source ? `${p.source.file}:${p.source.position}` : '',
              p.source ? number(p.rows_applied) : '', p.source ? number(p.inflight_rows) : '',
              p.source ? number(p.reconnects) : '', number(p.epoch || 0),
              p.ddl_skipped ? `${number(p.ddl_skipped)}: ${p.last_skipped_ddl}` : '0',
              p.error || (p.lease && p.lease.error) || ''],
      data: {pipeline: n, state: p.state},
      cls: [null, p.error ? 'down' : null, null, p.owner ? null : 'down', null, 'num', 'num',
            'num', 'num', null, 'down'],
    })));
  }

  function tokenChart(provider) {
    const id = `chart-token-${provider.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    if (!$(id)) {
      const figure = document.createElement('figure');
      const caption = document.createElement('figcaption');
      caption.textContent = `${provider}: token lifetime, refreshes and calls`;
      const box = document.createElement('div');
      box.className = 'chart';
      const canvas = document.createElement('canvas');
      canvas.id = id;
      box.appendChild(canvas);
      figure.append(caption, box);
      $('token-charts').appendChild(figure);
    }
    const fresh = !charts[id];
    const chart = chartFor(id, {y: {title: 'expires in (s)'}, y1: {title: 'calls, gets'}});
    if (fresh) {
      chart.options.plugins.tooltip.callbacks.label = (item) =>
        item.raw.version !== undefined ? `refresh: version ${item.raw.version}`
                                       : `${item.dataset.label}: ${number(item.raw.y)}`;
    }
    return chart;
  }

  // upstream_calls counts calls by result: "ok" or what went wrong.
  function upstream(p) {
    const calls = Object.entries(p.upstream_calls || {});
    const ok = calls.filter(([k]) => k === 'ok').reduce((n, [, v]) => n + v, 0);
    const all = calls.reduce((n, [, v]) => n + v, 0);
    return {ok, failed: all - ok};
  }

  function renderTokens(s, from, to) {
    namesIn('tokens').forEach((name) => {
      const at = (x) => x.tokens && x.tokens[name];
      // A refresh is a sample whose version differs from the sample before it.
      const refreshes = [];
      let previous;
      samples.forEach(({t, s: x}) => {
        const p = x && at(x);
        if (!p) return;
        if (previous !== undefined && p.version !== previous)
          refreshes.push({x: t, y: p.expires_in_ms / 1000, version: p.version});
        previous = p.version;
      });
      draw(tokenChart(name), [
        {label: 'expires in (s)', data: points((x) => at(x) && at(x).expires_in_ms / 1000),
         yAxisID: 'y', color: '#2563eb'},
        {label: 'refresh (new version)', data: refreshes, yAxisID: 'y', showLine: false,
         pointRadius: 6, pointStyle: 'triangle', color: '#111827'},
        {label: 'upstream calls ok', data: points((x) => at(x) && upstream(at(x)).ok),
         yAxisID: 'y1', stepped: true, color: '#16a34a'},
        {label: 'upstream calls failed', data: points((x) => at(x) && upstream(at(x)).failed),
         yAxisID: 'y1', stepped: true, color: '#dc2626'},
        {label: 'waited gets', data: points((x) => at(x) && at(x).waited_gets),
         yAxisID: 'y1', stepped: true, borderDash: [4, 3], color: '#7c3aed'},
        {label: 'stale served', data: points((x) => at(x) && at(x).stale_served),
         yAxisID: 'y1', stepped: true, borderDash: [1, 3], color: '#0891b2'},
      ], from, to);
    });
    fillRows($('providers'), Object.entries(s.tokens).map(([n, p]) => ({
      cells: [n, p.version, p.version ? duration(p.expires_in_ms / 1000) : 'no token',
              `${p.keeper_node || '?'}${p.keeper_here ? ' (here)' : ''}`,
              `${number(upstream(p).ok)} ok, ${number(upstream(p).failed)} failed`,
              number(p.waited_gets), number(p.stale_served),
              p.last_error || ''],
      data: {provider: n, version: p.version},
      cls: [null, 'num', 'num', null, 'num', 'num', 'num', 'down'],
    })));
  }

  function renderHotkeys(s, from, to) {
    const h = (x) => x.hotkeys;
    draw(chartFor('chart-hot-keys', {y: {title: 'keys', ticks: {precision: 0}}}), [
      {label: 'hot keys', data: points((x) => h(x) && h(x).hot_keys.length), stepped: true},
    ], from, to);
    // The ratio over each poll interval, from the counters' differences (a gap when
    // nothing was read), next to the ratio since the node started.
    const interval = samples.map(({t, s: x}, i) => {
      const before = i > 0 && samples[i - 1].s && h(samples[i - 1].s);
      const now = x && h(x);
      if (!before || !now) return {x: t, y: null};
      const hits = now.cache_hits - before.cache_hits;
      const reads = hits + now.cache_misses - before.cache_misses;
      return {x: t, y: reads > 0 ? (100 * hits) / reads : null};
    });
    draw(chartFor('chart-hit-ratio', {y: {title: '%', max: 100}}), [
      {label: 'last second', data: interval},
      {label: 'since start', data: points((x) => h(x) && 100 * h(x).cache_hit_ratio),
       borderDash: [4, 3]},
    ], from, to);
    const hot = [...s.hotkeys.hot_keys].sort((a, b) => b.count - a.count).slice(0, 20);
    fillRows($('hot-keys'), hot.length ? hot.map((k) => ({
      cells: [k.key, number(k.count), k.ttl_ms < 0 ? 'never' : duration(k.ttl_ms / 1000),
              k.manual ? 'manual' : 'detected'],
      data: {key: k.key},
      cls: [null, 'num', 'num', null],
    })) : [{cells: ['no key is hot now', '', '', ''], cls: ['muted']}]);
  }

  // -- polling ----------------------------------------------------------------

  function record(t, s) {
    samples.push({t, s});
    while (samples.length && samples[0].t < t - HISTORY_MS) samples.shift();
  }

  function render() {
    const last = [...samples].reverse().find((x) => x.s);
    if (!last) return;
    const s = last.s;
    const reachable = samples[samples.length - 1].s !== null;
    const from = samples[0].t, to = samples[samples.length - 1].t;
    document.title = `shoal ${s.node}`;
    $('node-name').textContent = s.node;
    $('facts').textContent = `port ${s.port} · TLS ${s.tls ? 'on' : 'off'} · up ${duration(s.uptime_s)}`;
    renderCluster(s, reachable);
    const renderers = {sync: renderSync, tokens: renderTokens, hotkeys: renderHotkeys};
    SERVICES.forEach((name) => {
      if (configured(s, name)) renderers[name](s, from, to);
      $(name).classList.toggle('stale', !reachable);
    });
  }

  function connection(ok, why) {
    const badge = $('connection');
    badge.textContent = ok ? 'live' : 'unreachable';
    badge.className = `badge ${ok ? 'live' : 'down'}`;
    $('unreachable').hidden = ok;
    document.body.classList.toggle('unreachable', !ok);
    if (!ok) {
      $('unreachable-why').textContent = why;
      $('last-answer').textContent = lastAnswer
        ? `Last answer at ${clock(lastAnswer)} (${duration((Date.now() - lastAnswer) / 1000)} ago).`
        : 'No answer yet.';
    }
    const state = $('render-state');
    state.dataset.polls = polls;
    state.dataset.failures = failures;
    state.dataset.reachable = ok;
  }

  async function poll() {
    const started = Date.now();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const res = await fetch('status', {cache: 'no-store', signal: abort.signal});
      if (!res.ok) throw new Error(`/status answered HTTP ${res.status}`);
      const s = await res.json();
      polls += 1;
      lastAnswer = Date.now();
      record(started, s);
      connection(true);
    } catch (e) {
      failures += 1;
      record(started, null);
      connection(false, e.name === 'AbortError' ? `no answer within ${TIMEOUT_MS / 1000} s`
                        : e instanceof TypeError ? 'cannot connect' : e.message);
    } finally {
      clearTimeout(timer);
    }
    render();
    setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
  }

  Chart.defaults.font.size = 11;
  Chart.defaults.color = '#4b5563';
  poll();
})();
