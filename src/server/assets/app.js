// Peekr Costs page: one request to /api/v1/dashboard, then plain DOM and hand-written SVG.
// Every value from the server goes in through textContent or an attribute, never as HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

// ----- formatting (money arrives as integer nano-USD) -----

function usd(nanos) {
  const d = nanos / 1e9;
  const a = Math.abs(d);
  if (a === 0) return "$0.00";
  if (a >= 100) return "$" + d.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (a >= 1) return "$" + d.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return "$" + d.toPrecision(3);
}
function cents(nanos) {
  if (nanos === null || nanos === undefined) return "–";
  const c = nanos / 1e7;
  const a = Math.abs(c);
  if (a === 0) return "0¢";
  return (a >= 10 ? c.toFixed(1) : a >= 1 ? c.toFixed(2) : c.toPrecision(2)) + "¢";
}
function signedCents(nanos) { return (nanos > 0 ? "+" : nanos < 0 ? "−" : "±") + cents(Math.abs(nanos)); }
function per1k(nanos) { return nanos === null || nanos === undefined ? "–" : usd(nanos * 1000); }
function num(n) { return Number(n).toLocaleString("en-US"); }
function pct(x) { return (x * 100).toFixed(x < 0.1 ? 1 : 0) + "%"; }
function ms(ns) { const v = ns / 1e6; return v >= 1000 ? (v / 1000).toFixed(2) + " s" : v.toFixed(0) + " ms"; }
function perQuery(cost, queries) { return queries > 0 ? Math.round(cost / queries) : null; }

// ----- DOM helpers -----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const c of children.flat()) if (c) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function body(id) { const b = document.querySelector("#" + id + " .body"); b.replaceChildren(); return b; }
function table(headers, rows, opts) {
  const head = el("tr", {}, headers.map((h) => el("th", { text: h })));
  return el("div", { class: "scroll" }, el("table", opts || {}, el("thead", {}, head), el("tbody", {}, rows)));
}

// ----- state and loading -----

const state = { data: null, selectedTrace: null };

function params() {
  const f = new FormData(document.getElementById("filters"));
  const p = new URLSearchParams();
  for (const [k, v] of f.entries()) if (v) p.set(k, v);
  return p;
}

async function api(path) {
  const res = await fetch(path, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (res.status === 401) { window.location.href = "/login"; throw new Error("signed out"); }
  const json = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(json.error || res.statusText);
  return json;
}

async function load() {
  const status = document.getElementById("status");
  status.className = "status";
  status.textContent = "Loading…";
  try {
    const p = params();
    history.replaceState(null, "", p.toString() ? "?" + p : location.pathname);
    const data = await api("/api/v1/dashboard?" + p);
    state.data = data;
    render(data);
    status.textContent = "";
    document.body.dataset.loaded = "true";
  } catch (e) {
    status.className = "status error";
    status.textContent = "Could not load: " + e.message;
  }
}

function fillSelect(name, values, current) {
  const s = document.querySelector(`#filters select[name=${name}]`);
  s.replaceChildren(el("option", { value: "", text: "all" }), ...values.map((v) => el("option", { value: v, text: v })));
  s.value = current || "";
}

// ----- rendering -----

function render(d) {
  document.getElementById("project").textContent = d.project;
  const f = d.filter;
  fillSelect("tenant", d.filter_values.tenants, f.tenant);
  fillSelect("model", d.filter_values.models, f.model);
  fillSelect("service", d.filter_values.services, f.service);
  const form = document.getElementById("filters");
  form.elements.from.value = d.series.from;
  form.elements.to.value = d.series.to;
  document.getElementById("range").textContent = `${d.series.from} to ${d.series.to} (UTC days)`;
  renderHeadline(d);
  renderKpis(d);
  renderChart(d);
  renderBreakdown("by-operation", d.by_operation, d.series.totals.queries);
  renderBreakdown("by-model", d.by_model, d.series.totals.queries);
  renderBreakdown("by-tenant", d.by_tenant, d.series.totals.queries);
  renderBreakdown("by-service", d.by_service, d.series.totals.queries);
  renderInsights(d.insights);
  renderCompare(d.compare);
  renderErrors(d.errors);
  renderAlerts(d.alerts);
  renderTopTraces(d.top_traces);
}

function renderHeadline(d) {
  const h = document.getElementById("headline");
  const jumps = d.insights.filter((i) => i.kind === "cost_per_query_jump");
  if (!jumps.length) { h.hidden = true; return; }
  // The latest jump is the one that explains today's number.
  const j = jumps[jumps.length - 1];
  h.replaceChildren(
    el("h2", { text: j.title }),
    el("p", { text: j.detail }),
    el("p", {}, j.items.map((it) => el("span", { class: "driver" }, el("strong", { text: it.label }), " ", it.value, " · "))),
    j.trace_id ? el("p", {}, el("a", { href: "#waterfall", onclick: (e) => { e.preventDefault(); openTrace(j.trace_id); } }, "Open the most expensive query of " + j.day + " →")) : null,
  );
  h.hidden = false;
}

function kpi(label, value, sub, testid) {
  return el("div", { class: "kpi", "data-testid": testid }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }), el("div", { class: "sub", text: sub || "" }));
}

function renderKpis(d) {
  const t = d.series.totals;
  const days = d.series.days.filter((x) => x.queries > 0);
  const last = days[days.length - 1];
  d.errors.error_rate = d.errors.error_rate || 0;
  document.getElementById("kpis").replaceChildren(
    kpi("cost per query (window)", cents(t.cost_per_query_nanos), per1k(t.cost_per_query_nanos) + " per 1k queries", "kpi-cpq"),
    kpi("cost per query (" + (last ? last.day : "last day") + ")", cents(last ? last.cost_per_query_nanos : null), last ? per1k(last.cost_per_query_nanos) + " per 1k queries" : "", "kpi-last"),
    kpi("queries", num(t.queries), num(t.llm_calls) + " LLM calls", "kpi-queries"),
    kpi("total LLM cost", usd(t.cost_nanos), num(t.tokens_input + t.tokens_output) + " tokens", "kpi-cost"),
    kpi("error rate", pct(d.errors.error_rate), usd(d.errors.error_cost_nanos) + " on failed calls", "kpi-errors"),
  );
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function renderChart(d) {
  const box = document.getElementById("chart-cpq");
  const days = d.series.days;
  const W = 960, H = 280, L = 56, R = 48, T = 16, B = 34;
  const iw = W - L - R, ih = H - T - B;
  const maxC = niceMax(Math.max(0, ...days.map((x) => x.cost_per_query_nanos || 0)));
  const maxQ = niceMax(Math.max(0, ...days.map((x) => x.queries)));
  const step = iw / Math.max(1, days.length);
  const x = (i) => L + step * i + step / 2;
  const yc = (v) => T + ih - (v / maxC) * ih;
  const yq = (v) => T + ih - (v / maxQ) * ih;
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Cost per query and queries per day" });
  for (let k = 0; k <= 4; k++) {
    const v = (maxC * k) / 4, y = yc(v);
    s.append(svg("line", { class: "gridline", x1: L, x2: W - R, y1: y, y2: y }));
    s.append(svg("text", { x: L - 6, y: y + 4, "text-anchor": "end" }, cents(v)));
    s.append(svg("text", { x: W - R + 6, y: y + 4 }, num(Math.round((maxQ * k) / 4))));
  }
  const readout = el("div", { class: "readout", "data-testid": "chart-readout" }, "Hover a day for its numbers.");
  const show = (p) => {
    readout.textContent = `${p.day}: ${cents(p.cost_per_query_nanos)} per query (${per1k(p.cost_per_query_nanos)} per 1k), ${num(p.queries)} queries, ${usd(p.cost_nanos)} in all`;
  };
  days.forEach((p, i) => {
    const h = ih - (yq(p.queries) - T);
    const bar = svg("rect", { class: "qbar", x: x(i) - step * 0.35, width: step * 0.7, y: yq(p.queries), height: Math.max(0, h) },
      svg("title", {}, `${p.day}: ${num(p.queries)} queries`));
    bar.addEventListener("mouseenter", () => show(p));
    s.append(bar);
    if (i % Math.ceil(days.length / 10) === 0 || i === days.length - 1) {
      s.append(svg("text", { x: x(i), y: H - B + 16, "text-anchor": "middle" }, p.day.slice(5)));
    }
  });
  // Jump days from the insights.
  for (const j of d.insights.filter((i) => i.kind === "cost_per_query_jump")) {
    const i = days.findIndex((p) => p.day === j.day);
    if (i < 0) continue;
    s.append(svg("line", { class: "jump", x1: x(i), x2: x(i), y1: T, y2: T + ih }));
    s.append(svg("text", { class: "jump-label", x: x(i) + 4, y: T + 10 }, "▲ " + j.day.slice(5)));
  }
  const pts = days.map((p, i) => (p.cost_per_query_nanos === null ? null : [x(i), yc(p.cost_per_query_nanos), p])).filter(Boolean);
  if (pts.length) {
    s.append(svg("path", { class: "cpq", d: pts.map((q, k) => (k ? "L" : "M") + q[0].toFixed(1) + " " + q[1].toFixed(1)).join(" ") }));
    for (const [px, py, p] of pts) {
      const dot = svg("circle", { class: "dot", cx: px, cy: py, r: 3.5, "data-day": p.day },
        svg("title", {}, `${p.day}: ${cents(p.cost_per_query_nanos)} per query, ${num(p.queries)} queries`));
      dot.addEventListener("mouseenter", () => show(p));
      s.append(dot);
    }
  }
  s.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: T + ih, y2: T + ih }));
  box.replaceChildren(s, readout);
}

function renderBreakdown(id, b, queries) {
  const out = body(id);
  if (!b.rows.length) { out.append(el("p", { class: "muted", text: "No LLM spend in this window." })); return; }
  if (b.embedding_share !== null && b.embedding_share !== undefined) {
    out.append(el("p", { class: b.embedding_flag ? "flag" : "muted small", "data-testid": "embedding-share" },
      (b.embedding_flag ? "⚠ " : "") + "Embeddings: " + pct(b.embedding_share) + " of spend" + (b.embedding_flag ? " (above 10%: see insights)" : "")));
  }
  const max = Math.max(...b.rows.map((r) => r.cost_nanos), 1);
  const rows = b.rows.map((r) => {
    const bar = el("div", { class: "hbar" });
    bar.style.width = ((r.cost_nanos / max) * 100).toFixed(1) + "%";
    return el("tr", {},
      el("td", { class: "name", title: r.key || "(none)", text: r.key || "(none)" }),
      el("td", { class: "barcell" }, bar),
      el("td", { text: usd(r.cost_nanos) }),
      el("td", { text: cents(perQuery(r.cost_nanos, queries)) }),
      el("td", { text: per1k(perQuery(r.cost_nanos, queries)) }),
      el("td", { text: pct(r.share) }),
      el("td", { text: num(r.llm_calls) }));
  });
  out.append(table(["", "", "cost", "¢/query", "$/1k q", "share", "calls"], rows));
}

function renderInsights(list) {
  const out = body("insights");
  if (!list.length) { out.append(el("p", { class: "muted", text: "Nothing to flag: cost per query is steady and no waste pattern was found." })); return; }
  for (const i of list) {
    out.append(el("div", { class: "insight " + i.kind, "data-testid": "insight" },
      el("div", { class: "kind", text: i.kind.replaceAll("_", " ") }),
      el("h3", { text: i.title }),
      el("p", { text: i.detail }),
      el("p", {}, el("span", { class: "do", text: "Do: " }), i.action),
      i.saving_per_day_nanos ? el("p", { class: "saving", text: "Saves about " + usd(i.saving_per_day_nanos) + " per day" }) : null,
      i.items.length ? el("ul", {}, i.items.map((it) => el("li", {}, el("strong", { text: it.label }), ": " + it.value))) : null,
      i.trace_id ? el("p", {}, el("a", { href: "#waterfall", onclick: (e) => { e.preventDefault(); openTrace(i.trace_id); } }, "Open trace " + i.trace_id.slice(0, 12) + "… →")) : null,
    ));
  }
}

function renderCompare(c) {
  document.getElementById("compare-range").textContent =
    `${c.current.from} against ${c.baseline.from}: ${cents(c.baseline.cost_per_query_nanos)} → ${cents(c.current.cost_per_query_nanos)} per query`;
  const out = body("compare");
  const section = (title, rows) => {
    const shown = rows.slice(0, 6).map((r) =>
      el("tr", {},
        el("td", { class: "name", title: r.key || "(none)", text: r.key || "(none)" }),
        el("td", { text: cents(r.baseline_per_query_nanos) + " → " + cents(r.current_per_query_nanos) }),
        el("td", { class: r.delta_per_query_nanos > 0 ? "up" : r.delta_per_query_nanos < 0 ? "down" : "", text: signedCents(r.delta_per_query_nanos) })));
    return el("div", { class: "card" }, el("h2", { text: title }), table(["", c.baseline.from.slice(5) + " → " + c.current.from.slice(5) + " (per query)", "change"], shown));
  };
  out.append(el("div", { class: "grid three" }, section("Operation", c.by_operation), section("Model", c.by_model), section("Span name", c.by_name)));
}

function renderErrors(e) {
  const out = body("errors");
  out.append(table(["", ""], [
    el("tr", {}, el("td", { text: "LLM calls" }), el("td", { text: num(e.llm_calls) })),
    el("tr", {}, el("td", { text: "failed calls" }), el("td", { text: num(e.errors) + " (" + pct(e.error_rate) + ")" })),
    el("tr", {}, el("td", { text: "spend on failed calls" }), el("td", { text: usd(e.error_cost_nanos) })),
    el("tr", {}, el("td", { text: "failed calls that were retried" }), el("td", { text: num(e.retried_calls) + " (" + usd(e.retried_cost_nanos) + ")" })),
  ]));
  if (e.by_model.length) {
    out.append(table(["model", "failed", "cost of failures"], e.by_model.map((r) =>
      el("tr", {}, el("td", { class: "name", text: r.key || "(none)" }), el("td", { text: num(r.errors) }), el("td", { text: usd(r.error_cost_nanos) })))));
  }
}

function renderAlerts(list) {
  const out = body("alerts");
  if (!list.length) { out.append(el("p", { class: "muted", text: "No day reached twice the week before." })); return; }
  out.append(table(["day", "state", "¢/query", "week before", "ratio"], list.map((a) =>
    el("tr", {}, el("td", { text: a.day }), el("td", { class: a.state === "firing" ? "up" : "down", text: a.state }),
      el("td", { text: cents(a.cost_per_query_nanos) }), el("td", { text: cents(a.baseline_cost_per_query_nanos) }), el("td", { text: "×" + a.ratio.toFixed(1) })))));
}

function renderTopTraces(list) {
  const out = body("top-traces");
  if (!list.length) { out.append(el("p", { class: "muted", text: "No queries in this window." })); return; }
  const rows = list.map((t) => el("tr", { class: "clickable", "data-trace": t.trace_id, tabindex: "0",
      onclick: () => openTrace(t.trace_id), onkeydown: (e) => { if (e.key === "Enter") openTrace(t.trace_id); } },
    el("td", {}, el("code", { text: t.trace_id.slice(0, 16) + "…" })),
    el("td", { text: t.day || "" }),
    el("td", { class: "name", text: t.root_name || "" }),
    el("td", { text: t.tenant_id || "" }),
    el("td", { text: usd(t.cost_nanos) }),
    el("td", { text: cents(t.cost_nanos) }),
    el("td", { text: num(t.tokens_input) + " / " + num(t.tokens_output) }),
    el("td", { text: num(t.llm_calls) }),
    el("td", { class: t.errors ? "up" : "", text: num(t.errors) })));
  out.append(table(["trace", "day", "root span", "tenant", "cost", "¢", "tokens in / out", "LLM calls", "errors"], rows, { "data-testid": "top-traces-table" }));
}

async function openTrace(id) {
  const box = document.getElementById("waterfall");
  document.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
  document.querySelectorAll(`tr[data-trace="${CSS.escape(id)}"]`).forEach((r) => r.classList.add("selected"));
  box.hidden = false;
  document.getElementById("waterfall-id").textContent = id;
  const out = body("waterfall");
  out.append(el("p", { class: "muted", text: "Loading…" }));
  try {
    const t = await api("/api/v1/traces/" + encodeURIComponent(id));
    renderWaterfall(t);
  } catch (e) {
    body("waterfall").append(el("p", { class: "status error", text: "Could not load the trace: " + e.message }));
  }
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}

function renderWaterfall(t) {
  const out = body("waterfall");
  out.append(el("p", {},
    `${t.root_name} · ${ms(t.duration_ns)} · `, el("strong", { text: usd(t.cost_nanos) }),
    ` · ${num(t.tokens_input)} tokens in, ${num(t.tokens_output)} out` + (t.tenant_id ? ` · tenant ${t.tenant_id}` : "") + (t.session_id ? ` · session ${t.session_id}` : "")));
  const priciest = Math.max(0, ...t.spans.map((s) => s.cost_nanos || 0));
  const total = Math.max(1, t.duration_ns);
  const rows = t.spans.map((s) => {
    const bar = el("div", { class: "span-bar" + (s.cost_nanos !== null ? " llm" : "") + (s.status_code === 2 ? " error" : "") });
    bar.style.left = ((s.start_offset_ns / total) * 100).toFixed(2) + "%";
    bar.style.width = Math.max(0.3, (s.duration_ns / total) * 100).toFixed(2) + "%";
    bar.title = `${s.name}: ${ms(s.duration_ns)} from +${ms(s.start_offset_ns)}`;
    const name = el("td", { class: "name", title: s.name });
    name.style.paddingLeft = 8 + s.depth * 16 + "px";
    name.append(s.name, s.status_code === 2 ? el("span", { class: "up", text: " ✕ error" }) : "");
    let vs = "";
    if (s.cost_nanos !== null && s.typical_cost_nanos) {
      const r = s.cost_nanos / s.typical_cost_nanos;
      vs = el("span", { class: r >= 1.5 ? "pricier" : "", text: "×" + r.toFixed(1) + " usual (" + usd(s.typical_cost_nanos) + ")" });
    }
    return el("tr", { class: s.cost_nanos && s.cost_nanos === priciest && priciest > 0 ? "hot" : "", "data-testid": "waterfall-span" },
      name,
      el("td", {}, el("div", { class: "lane" }, bar)),
      el("td", { text: s.model || "" }),
      el("td", { text: s.cost_nanos === null ? "" : num(s.tokens_input) + " / " + num(s.tokens_output) }),
      el("td", { text: s.cost_nanos === null ? "" : usd(s.cost_nanos) }),
      el("td", { text: s.cost_nanos === null ? "" : pct(s.share) }),
      el("td", {}, vs),
      el("td", { text: s.evaluation_score === null ? "" : s.evaluation_score.toFixed(2) }));
  });
  out.append(table(["span", "timeline", "model", "tokens in / out", "cost", "of trace", "vs usual", "eval"], rows, { class: "wf", "data-testid": "waterfall-table" }));
}

// ----- wiring -----

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("filters");
  const q = new URLSearchParams(location.search);
  for (const [k, v] of q.entries()) {
    const input = form.elements[k];
    if (input && input.tagName === "SELECT") input.append(el("option", { value: v, text: v }));
    if (input) input.value = v;
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  document.getElementById("reset").addEventListener("click", () => { form.reset(); for (const s of form.querySelectorAll("select")) s.value = ""; for (const i of form.querySelectorAll("input")) i.value = ""; load(); });
  load();
});
