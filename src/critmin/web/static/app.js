// critmin dashboard: a thin client of the REST API (/api/v1). Every figure is drawn by the
// server's figure module (plotly JSON); this file only routes, fetches and renders.
"use strict";

const API = "/api/v1";
const PLOT_CONFIG = {
  responsive: true, displaylogo: false, topojsonURL: "/static/vendor/topojson/",
  modeBarButtonsToRemove: ["select2d", "lasso2d"],
};
const METRICS = {
  import_reliance: "Import reliance",
  china_share: "China's share of imports",
  score: "GeoPolRisk score",
  top_supplier_share: "Largest supplier's share",
  china_share_origin: "China's share by origin",
};
const STAGES = ["headline", "ore", "intermediate", "refined", "alloy", "scrap", "product"];
const YEARS = { first: 1995, last: 2024 };
const cache = {};

// -- helpers -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(body, status) {
    const e = (body && body.error) || { message: `HTTP ${status}`, suggestions: [] };
    super(e.message);
    this.code = e.code;
    this.suggestions = e.suggestions || [];
    this.status = status;
  }
}

const COMPUTING_TRIES = 120;  // a fresh store's cube takes well under a minute to compute

// requests under way, in the page's data-busy (a test waits for 0 before it moves on)
let busy = 0;

function busyBy(change) {
  busy += change;
  document.body.dataset.busy = String(busy);
}

async function api(path, body) {
  busyBy(1);
  try {
    return await request(path, body);
  } finally {
    busyBy(-1);
  }
}

async function request(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(API + path, options);
    const data = await response.json().catch(() => null);
    // just after the server started it computes the metrics: wait as it asks, then retry
    const computing = response.status === 503 && data && data.error
      && data.error.code === "computing";
    if (computing && attempt < COMPUTING_TRIES) {
      computingNotice(true);
      const wait = Number(response.headers.get("retry-after")) || 5;
      await new Promise((done) => setTimeout(done, Math.min(wait, 5) * 1000));
      continue;
    }
    computingNotice(false);
    if (!response.ok) throw new ApiError(data, response.status);
    return data;
  }
}

function computingNotice(show) {
  let note = document.getElementById("computing");
  if (show && !note) {
    note = el("p", { id: "computing", class: "notice", role: "status",
      text: "The server has just started and is computing the metrics; this page loads " +
            "as soon as they are ready." });
    document.body.prepend(note);
  } else if (!show && note) {
    note.remove();
  }
}

async function once(key, load) {
  if (!(key in cache)) cache[key] = load();
  return cache[key];
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const main = () => document.getElementById("main");

function put(node, ...children) {
  node.classList.remove("stale");
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function isShare(col) {
  // fractions shown as per cent: shares, reliance, probabilities (p_…), cuts and odds
  return (/share|reliance|^p_|probability|odds|^cut$|exposure|coverage/.test(col)) && !/_t$/.test(col);
}

const NARROW = () => matchMedia("(max-width: 600px)").matches;
const LONG_TEXT = 90;  // characters a cell shows before it folds (a click opens it)

const NAMES = {};
const COUNTRY_COLUMNS = new Set(["country", "supplier", "exporter", "importer", "top_supplier", "top_producer", "top_refiner"]);

function fmt(col, v) {
  if (v === null || v === undefined || v === "") return "–";
  if (COUNTRY_COLUMNS.has(col) && typeof v === "string" && NAMES[v]) return `${NAMES[v]} (${v})`;
  if (Array.isArray(v)) return v.join(", ");
  if (typeof v === "boolean") return v ? "yes" : "";
  if (typeof v === "number") {
    if (isShare(col)) return (100 * v).toFixed(1) + "%";
    if (col === "score" || col === "hhi" || col.endsWith("hhi") || col === "risk") return v.toFixed(3);
    if (col === "year" || col.endsWith("_year") || col === "rank") return String(v);
    return Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en") : v.toLocaleString("en", { maximumFractionDigits: 2 });
  }
  return String(v);
}

function table(rows, columns, opts = {}) {
  if (!rows || rows.length === 0) return el("p", { class: "loading" }, "No rows.");
  // country columns show "Name (ISO3)", so separate name columns would repeat them
  const cols = (columns || Object.keys(rows[0]))
    .filter((c) => c in rows[0] && c !== "name" && c !== "supplier_name");
  const head = el("tr", {}, cols.map((c) => el("th", {}, c.replace(/_/g, " "))));
  const body = rows.slice(0, opts.limit || 500).map((r) => el("tr", {}, cols.map((c) => {
    const cell = el("td", { class: typeof r[c] === "number" ? "num" : null });
    const custom = opts.cells && opts.cells[c] ? opts.cells[c](r[c], r) : null;
    const link = opts.links && opts.links[c] && r[c] ? opts.links[c](r[c], r) : null;
    const text = fmt(c, r[c]);
    if (custom !== null && custom !== undefined) cell.append(custom);
    else if (link) cell.append(el("a", { href: link }, text));
    else if (text.length > LONG_TEXT) {  // long reasons fold to two lines; a click opens them
      const clip = el("span", { class: "clip", title: text, text });
      clip.addEventListener("click", () => clip.classList.toggle("open"));
      cell.append(clip);
    } else cell.textContent = text;
    return cell;
  })));
  return el("div", { class: opts.tall ? "table-wrap tall" : "table-wrap" },
    el("table", {}, el("thead", {}, head), el("tbody", {}, body)));
}

// a before/after table of several metrics: each value formatted as its metric
const BY_METRIC = Object.fromEntries(["before", "after", "today", "optimised"].map((c) => [c, (v, r) => fmt(r.metric, v)]));

function errorBox(err) {
  const box = el("div", { class: "error", role: "alert" }, el("strong", {}, "Error: "), err.message);
  if (err.suggestions && err.suggestions.length) box.append(el("div", {}, "Did you mean: " + err.suggestions.join(", ") + "?"));
  return box;
}

function notesBox(notes, folded = false) {
  const list = (notes || []).filter(Boolean);
  if (!list.length) return null;
  const items = el("ul", {}, list.map((n) => el("li", {}, n)));
  if (folded) {  // a page's caveats come after its findings, folded
    return el("details", { class: "notes" },
      el("summary", {}, el("strong", {}, `What the data cannot show (${list.length} note${list.length > 1 ? "s" : ""})`)), items);
  }
  return el("div", { class: "notes" }, el("strong", {}, "What the data cannot show"), items);
}

// On a phone a figure keeps its width: titles wrap, legends and colour bars go below, maps
// get the height their width needs, and the mode bar stays hidden.
function narrowLayout(layout) {
  const out = { ...layout, margin: { l: 4, r: 4, t: 60, b: 10 } };
  const title = layout.title && layout.title.text;
  if (title && title.replace(/<br>/g, " ").length > 38) {
    const lines = [];
    for (const part of title.split("<br>")) {  // each line of the title wrapped at words
      lines.push("");
      for (const w of part.trim().split(" ")) {
        if ((lines[lines.length - 1] + " " + w).length > 38 && lines[lines.length - 1]) lines.push(w);
        else lines[lines.length - 1] = (lines[lines.length - 1] + " " + w).trim();
      }
    }
    out.title = { ...layout.title, text: lines.join("<br>"), font: { size: 13 } };
    out.margin.t = 22 + 17 * lines.length;
  }
  if (Array.isArray(layout.annotations)) {  // notes under a figure wrapped to the phone's width
    // a map's notes leave the figure (its colour bar goes under the map), to the text below
    out.annotations = layout.geo ? [] : layout.annotations.map((a) => (typeof a.text === "string" && a.text.length > 50
      ? { ...a, text: a.text.split("<br>").map((line) => wrapWords(line, 50)).join("<br>") } : a));
    if (layout.geo) out.margin.b = 60;
  }
  out.legend = { ...(layout.legend || {}), orientation: "h", y: -0.12, x: 0 };
  if (layout.geo) out.height = Math.max(260, Math.min(420, Math.round(window.innerWidth * 0.75)) + 80);
  return out;
}

function wrapWords(text, width) {
  const lines = [""];
  for (const w of text.split(" ")) {
    if ((lines[lines.length - 1] + " " + w).length > width && lines[lines.length - 1]) lines.push(w);
    else lines[lines.length - 1] = (lines[lines.length - 1] + " " + w).trim();
  }
  return lines.join("<br>");
}

function narrowData(data) {
  return data.map((trace) => (trace.colorbar || trace.marker?.colorbar
    ? { ...trace, colorbar: { ...(trace.colorbar || {}), orientation: "h", thickness: 10, y: -0.08, len: 0.9,
      title: { ...((trace.colorbar || {}).title || {}), side: "top" } } }
    : trace));
}

function figureBox(fig, explain, onClick) {
  const div = el("div", { class: "plot" });
  const box = el("div", { class: "figure" }, div, explain ? el("p", { class: "explain" }, explain) : null);
  requestAnimationFrame(() => {
    const narrow = NARROW();
    const data = narrow ? narrowData(fig.data) : fig.data;
    const layout = narrow ? narrowLayout(fig.layout) : fig.layout;
    if (narrow && fig.data.some((trace) => trace.type === "sankey")) {
      // a chain of four labelled columns needs room: it scrolls sideways inside its box
      box.classList.add("wide-figure");
      div.style.minWidth = "760px";
    }
    if (narrow && fig.layout.geo && Array.isArray(fig.layout.annotations)) {
      const notes = fig.layout.annotations.map((a) => String(a.text || "").replace(/<br>/g, " ")).filter(Boolean);
      if (notes.length) box.insertBefore(el("p", { class: "explain" }, notes.join(" ")), div.nextSibling);
    }
    const config = narrow ? { ...PLOT_CONFIG, displayModeBar: false } : PLOT_CONFIG;
    Plotly.react(div, data, layout, config).then(() => {
      if (onClick) div.on("plotly_click", onClick);
    });
  });
  return box;
}

// a page's briefing pack as files (GET /brief/{country}, /company/{name}/brief): `query`
// holds the page's year and minerals
function briefLinks(path, query) {
  const link = (format, label) => {
    const q = new URLSearchParams(query);
    q.set("format", format);
    return el("a", { href: `${API}${path}?${q}` }, label);
  };
  return el("p", { class: "brief-links" }, "Briefing pack: ",
    link("pdf", "PDF"), " · ", link("xlsx", "Excel"), " · ", link("html", "HTML"));
}

function loading(text = "Loading…") {
  return el("p", { class: "loading" }, text);
}

function select(name, options, value, onchange) {
  const s = el("select", { name, onchange });
  for (const [v, label] of options) s.append(el("option", { value: v, selected: String(v) === String(value) }, label));
  return s;
}

function field(label, control) {
  return el("label", {}, label, control);
}

async function countryOptions() {
  const data = await once("countries", () => api("/countries"));
  return data.rows.map((r) => [r.iso3, `${r.name} (${r.iso3})`]);
}

async function mineralOptions() {
  const data = await once("minerals", () => api("/minerals"));
  return data.rows.map((r) => [r.mineral, r.name]);
}

function setHash(path, params) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== ""));
  const text = "#" + path + (q.toString() ? "?" + q : "");
  if (location.hash !== text) history.replaceState(null, "", text);
}

// A share as users type it: a fraction (0.3) or a percentage (30, 30 %); the value in (0, 1].
function parseShare(text) {
  const s = String(text).trim().replace(",", ".");
  if (s === "") return null;
  const percent = s.endsWith("%");
  const n = Number(percent ? s.slice(0, -1).trim() : s);
  if (s === "%" || !Number.isFinite(n)) throw new Error(`"${text}" is not a number: type a share such as 0.3 or 30 %`);
  const v = percent || n > 1 ? n / 100 : n;
  if (!(v > 0 && v <= 1)) throw new Error(`"${text}" is not a share: type one in (0, 1] or 0–100 %`);
  return v;
}

function fieldError(input, message) {
  const label = input.closest("label") || input.parentNode;
  let note = label.querySelector(".field-error");
  input.classList.toggle("invalid", Boolean(message));
  input.setAttribute("aria-invalid", message ? "true" : "false");
  if (!message) { if (note) note.remove(); return; }
  if (!note) { note = el("span", { class: "field-error", role: "alert" }); label.append(note); }
  note.textContent = message;
}

// The form's values, or null with each error shown next to its field (nothing is refused
// silently: the browser's own checks are off and said here instead).
function values(form) {
  const out = {};
  let ok = true;
  for (const input of form.querySelectorAll("input, select")) {
    if (!input.name) continue;
    let message = null;
    if (input.type === "checkbox") out[input.name] = input.checked;
    else if (input.dataset.share) {
      try { const v = parseShare(input.value); if (v !== null) out[input.name] = v; } catch (err) { message = err.message; }
    } else if (input.value !== "") {
      if (input.type === "number" && !input.checkValidity()) {
        const low = input.min !== "" ? Number(input.min) : null;
        const high = input.max !== "" ? Number(input.max) : null;
        message = `"${input.value}" is not allowed here` + (low !== null && high !== null ? `: type a number from ${low} to ${high}`
          : low !== null ? `: type a number of at least ${low}` : "");
      }
      out[input.name] = input.type === "number" ? Number(input.value) : input.value;
    }
    fieldError(input, message);
    if (message) ok = false;
  }
  return ok ? out : null;
}

// Results drawn for other inputs are dimmed with a note as soon as an input changes.
function markStale(result) {
  if (!result || !result.firstChild || result.classList.contains("stale")) return;
  result.classList.add("stale");
  result.prepend(el("p", { class: "stale-note", role: "status" }, "The inputs have changed: run again to update these results."));
}

function list(text) {
  return String(text || "").split(",").map((s) => s.trim()).filter(Boolean);
}

// -- pages ---------------------------------------------------------------------------------

async function worldPage(_arg, params) {
  const root = main();
  put(root, el("h1", {}, "World: who depends on whom"), loading());
  const minerals = await mineralOptions();
  const state = {
    mineral: params.get("mineral") || "rare-earths",
    metric: params.get("metric") || "china_share",
    stage: params.get("stage") || "headline",
    year: params.get("year") || "",
  };
  const yearLabel = el("span", {}, state.year || "latest");
  const slider = el("input", { type: "range", min: YEARS.first, max: YEARS.last, step: 1, name: "year", value: state.year || YEARS.last - 1 });
  const mapBox = el("div", { id: "world-map" });
  const tableBox = el("div");
  const controls = el("div", { class: "controls" },
    field("Mineral", select("mineral", minerals, state.mineral, (e) => { state.mineral = e.target.value; draw(); })),
    field("Metric", select("metric", Object.entries(METRICS), state.metric, (e) => { state.metric = e.target.value; draw(); })),
    field("Stage", select("stage", STAGES.map((s) => [s, s]), state.stage, (e) => { state.stage = e.target.value; draw(); })),
    field(el("span", {}, "Year ", yearLabel), slider));
  slider.addEventListener("input", () => { yearLabel.textContent = slider.value; });
  slider.addEventListener("change", () => { state.year = slider.value; draw(); });
  put(root, el("h1", {}, "World: who depends on whom"), controls, mapBox, tableBox);

  async function draw() {
    setHash("/world", state);
    put(mapBox, loading());
    try {
      const q = new URLSearchParams({ mineral: state.mineral, metric: state.metric, stage: state.stage });
      if (state.year) q.set("year", state.year);
      const page = await api("/figures/world?" + q);
      if (!state.year) { slider.value = page.year; yearLabel.textContent = page.year; }
      put(mapBox,
        figureBox(page.figures.map, page.explanations.map + " Click a country to open it.", (ev) => {
          const p = ev.points && ev.points[0];
          if (p && p.location) location.hash = `#/country/${p.location}?year=${page.year}`;
        }),
        notesBox(page.notes));
      const rows = page.tables.countries.slice().sort((a, b) => (b[state.metric] ?? -1) - (a[state.metric] ?? -1));
      put(tableBox, el("h2", {}, "Countries"),
        table(rows, [...new Set(["country", "name", state.metric, "import_reliance", "china_share", "top_supplier", "top_supplier_share", "reliance_status", "reason"])],
          { links: { country: (c) => `#/country/${c}?year=${page.year}` } }));
    } catch (err) {
      put(mapBox, errorBox(err));
      put(tableBox);
    }
  }
  await draw();
}

async function countryPage(arg, params) {
  const root = main();
  const code = arg || "IND";
  const year = params.get("year") || "";
  put(root, el("h1", {}, "Country"), loading());
  const countries = await countryOptions();
  const yearInput = el("input", { type: "number", name: "year", min: YEARS.first, max: YEARS.last, value: year, placeholder: "latest" });
  const go = () => { location.hash = `#/country/${form.querySelector("select").value}` + (yearInput.value ? `?year=${yearInput.value}` : ""); };
  const form = el("div", { class: "controls" },
    field("Country", select("country", countries, code.toUpperCase(), go)), field("Year", yearInput),
    el("button", { onclick: go }, "Show"));
  const body = el("div", {}, loading("Computing the profile…"));
  put(root, el("h1", {}, "Country"), form, body);
  let page;
  try {
    page = await api(`/figures/country/${encodeURIComponent(code)}` + (year ? `?year=${year}` : ""));
  } catch (err) {
    put(body, errorBox(err));
    return;
  }
  const profile = page.tables;
  const iso = page.subject;
  const y = `year=${page.year}`;
  const lists = page.lists || [];
  const flags = Object.entries(page.flags || {});
  const f = page.figures;
  const e = page.explanations;
  const findingsBox = el("section", { class: "findings", id: "findings" },
    el("h2", {}, "Key findings"), loading("Computing the key findings…"));
  api(`/findings/${encodeURIComponent(iso)}?${y}`).then((d) => {
    put(findingsBox, el("h2", {}, "Key findings"), el("ol", {}, d.findings.map((s) => el("li", {}, s))),
      el("p", { class: "explain" }, d.selection + " The same sentences open the briefing pack (critmin brief)."));
  }).catch((err) => put(findingsBox, el("h2", {}, "Key findings"), errorBox(err)));
  const packQuery = [["year", page.year], ...params.getAll("mineral").map((m) => ["mineral", m])];
  put(body,
    el("h1", {}, page.title),
    findingsBox,
    el("p", {}, lists.length ? `Own critical-mineral list${lists.length > 1 ? "s" : ""}: ${lists.join(", ")} — listed first, marked ★.` : "No critical-mineral list of its own in critmin's registry."),
    briefLinks(`/brief/${encodeURIComponent(iso)}`, packQuery),
    el("p", { class: "links" },
      el("a", { href: `${API}/report/${iso}?${y}`, target: "_blank" }, "Report (HTML)"),
      el("a", { href: `${API}/profile/${iso}?${y}&format=csv` }, "Download CSV"),
      el("a", { href: `${API}/profile/${iso}?${y}&format=xlsx` }, "Download Excel"),
      el("a", { href: `${API}/risk?country=${iso}&format=csv` }, "All years (CSV)"),
      el("a", { href: `#/optimise?importer=${iso}` }, "Optimise its sourcing")),
    el("h2", {}, "The minerals that matter"),
    el("div", { class: "grid" }, figureBox(f.china_trend, e.china_trend), figureBox(f.trend, e.trend)),
    el("div", { class: "grid" },
      figureBox(f.suppliers, e.suppliers), figureBox(f.origin, e.origin)),
    el("div", { class: "grid" },
      figureBox(f.dependence, e.dependence), figureBox(f.stages, e.stages)),
    el("h2", {}, "Dependence per mineral"),
    table(profile.minerals, ["mineral", "own_list", "answer", "import_reliance", "reliance_status", "reason", "china_share", "china_share_origin", "top_suppliers", "top_origins", "reserves_t", "score", "flags"],
      { links: { mineral: (m) => `#/mineral/${m}?${y}` } }),
    flags.length ? el("div", { class: "explain" }, el("strong", {}, "Flags: "),
      el("ul", {}, flags.map(([k, v]) => el("li", {}, el("code", {}, k), ": " + v)))) : null,
    el("h2", {}, "Per stage"),
    table(profile.stages, ["mineral", "stage", "production_t", "imports_basis_t", "exports_basis_t", "import_reliance", "reliance_status", "reason", "china_share", "top_supplier"]),
    el("h2", {}, "Top suppliers"),
    table(profile.suppliers, ["mineral", "supplier", "supplier_name", "share", "qty_basis_t", "value_kusd"],
      { links: { supplier: (c) => `#/country/${c}?${y}` } }),
    notesBox(page.notes, true),
  );
}

async function mineralPage(arg, params) {
  const root = main();
  const slug = arg || "rare-earths";
  const year = params.get("year") || "";
  put(root, el("h1", {}, "Mineral"), loading());
  const minerals = await mineralOptions();
  const yearInput = el("input", { type: "number", name: "year", min: YEARS.first, max: YEARS.last, value: year, placeholder: "latest" });
  const go = () => { location.hash = `#/mineral/${form.querySelector("select").value}` + (yearInput.value ? `?year=${yearInput.value}` : ""); };
  const form = el("div", { class: "controls" },
    field("Mineral", select("mineral", minerals, slug, go)), field("Year", yearInput), el("button", { onclick: go }, "Show"));
  const body = el("div", {}, loading());
  put(root, el("h1", {}, "Mineral"), form, body);
  let page;
  try {
    page = await api(`/figures/mineral/${encodeURIComponent(slug)}` + (year ? `?year=${year}` : ""));
  } catch (err) {
    put(body, errorBox(err));
    return;
  }
  const t = page.tables;
  const f = page.figures;
  const e = page.explanations;
  const y = `year=${page.year}`;
  const country = { links: { country: (c) => `#/country/${c}?${y}`, exporter: (c) => `#/country/${c}?${y}`, importer: (c) => `#/country/${c}?${y}` } };
  put(body,
    el("h1", {}, page.title),
    el("p", { class: "links" },
      el("a", { href: `${API}/report/${page.subject}?${y}`, target: "_blank" }, "Report (HTML)"),
      el("a", { href: `${API}/mineral/${page.subject}?${y}&format=xlsx` }, "Download Excel"),
      el("a", { href: `#/world?mineral=${page.subject}` }, "World map"),
      el("a", { href: `#/scenarios?tab=restrict&mineral=${page.subject}` }, "Restriction scenario")),
    el("div", { class: "grid" }, figureBox(f.concentration, e.concentration), figureBox(f.producers, e.producers)),
    figureBox(f.sankey, e.sankey),
    figureBox(f.flows, e.flows),
    el("div", { class: "grid" },
      el("div", {}, el("h2", {}, "Producers"), table(t.producers, null, country)),
      el("div", {}, el("h2", {}, "Top exporters"), table(t.exporters, null, country))),
    t.reserves ? el("div", {}, el("h2", {}, "Reserves (USGS)"), table(t.reserves, ["country", "qty_t", "year", "source", "note"], country)) : null,
    el("h2", {}, "Largest flows"), table(t.flows, null, country),
    el("h2", {}, "Value chain (tonnes of the basis)"), table(t.value_chain),
    el("h2", {}, "Concentration over time"), table(t.concentration.slice().reverse()),
    notesBox(page.notes, true),
  );
}

function resultView(data, tableRows, columns) {
  const parts = [];
  const summary = (data.summary || "").split("\n").filter((line) => !line.startsWith("warning:")).join("\n");
  if (summary) parts.push(el("div", { class: "summary" }, summary));
  for (const w of data.warnings || []) parts.push(el("div", { class: "warning", role: "alert" }, "Warning: " + w));
  if (data.figure) parts.push(figureBox(data.figure, null));
  parts.push(notesBox(data.notes));
  if (tableRows) parts.push(table(tableRows, columns, { cells: BY_METRIC }));
  return parts;
}

function form(fields, submit, label, result) {
  const node = el("form", { class: "controls", novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    const v = values(node);
    if (v) submit(v);
  } }, fields, el("button", { type: "submit" }, label));
  node.addEventListener("input", () => markStale(result));
  node.addEventListener("change", () => markStale(result));
  return node;
}

function input(name, value, attrs = {}) {
  return el("input", { name, value: value ?? "", ...attrs });
}

function shareInput(name, value, attrs = {}) {
  return input(name, value, { type: "text", inputmode: "decimal", "data-share": "1", size: 6, ...attrs });
}

// The verdict of an agreement: feasible only in green when the exposure to the rival's cut
// does not rise, with the change beside it either way.
function pactVerdict(d) {
  const before = d.exposure_before;
  const after = d.exposure_after;
  const known = typeof before === "number" && typeof after === "number";
  const points = known ? 100 * (after - before) : null;
  const rises = known && points > 0.005;
  const text = d.verdict ? `${d.verdict[0].toUpperCase()}${d.verdict.slice(1)}` : d.feasible ? "Feasible with today's trade" : "NOT feasible today";
  const rival = d.against && d.against.suppliers ? d.against.suppliers.join(", ") : "the rival";
  const change = known
    ? `exposure to a cut by ${rival}: ${fmt("exposure", before)} → ${fmt("exposure", after)} (${points >= 0 ? "+" : "−"}${Math.abs(points).toFixed(1)} points${rises ? ", higher" : ""})`
    : "exposure change not computed";
  const good = d.feasible && !rises;
  return el("p", { class: good ? "status-ok" : "status-no", "data-verdict": good ? "ok" : "no" },
    `${text}; ${change}.` + (d.feasible ? "" : " See the warnings.") + (d.feasible && rises ? " The agreement does not lower the exposure." : ""));
}

async function scenariosPage(_arg, params) {
  const root = main();
  const minerals = await mineralOptions();
  const [agreements, events, projects] = await Promise.all([once("agreements", () => api("/agreements")),
    once("events", () => api("/events")), once("projects", () => api("/projects"))]);
  const tab = params.get("tab") || "restrict";
  const out = el("div", { id: "scenario-result" });
  const run = async (path, body, show) => {
    put(out, loading("Running the scenario…"));
    try {
      const data = await api(body === undefined ? path : path + "?figures=true", body);
      put(out, ...show(data));
    } catch (err) {
      put(out, errorBox(err));
    }
  };
  const yearField = (v) => field("Year", input("year", v, { type: "number", min: YEARS.first, max: YEARS.last, placeholder: "latest" }));
  const stageField = (v) => field("Stage", select("stage", STAGES.map((s) => [s, s]), v || "headline"));
  const restrict = form([
    field("Supplier(s)", input("supplier", params.get("supplier") || "CHN", { size: 10 })),
    field("Mineral", select("mineral", minerals, params.get("mineral") || "rare-earths")),
    field("Cut (share or %)", shareInput("cut", params.get("cut") || "100 %")),
    stageField(params.get("stage")), yearField(params.get("year")),
    field("Only to (optional)", input("targets", params.get("targets") || "", { size: 10 })),
    field("Cascade", el("input", { type: "checkbox", name: "cascade", checked: true })),
    field("Stock (years)", input("stock_buffer", "0", { type: "number", min: 0, max: 10, step: 0.1 })),
    field("Event", select("event", [["", "—"], ...events.rows.map((r) => [r.id, r.id])], params.get("event") || "")),
  ], (v) => {
    const body = v.event ? { event: v.event, cascade: v.cascade, stock_buffer: v.stock_buffer, year: v.year } : {
      supplier: list(v.supplier), mineral: v.mineral, cut: v.cut, stage: v.stage, year: v.year,
      targets: list(v.targets).length ? list(v.targets) : null, cascade: v.cascade, stock_buffer: v.stock_buffer,
    };
    run("/scenarios/restrict", body, (d) => [...resultView(d, d.countries.filter((r) => r.loss_t > 0 || r.first_order_loss_t > 0),
      ["country", "supply_t", "first_order_loss_t", "loss_share_first_order", "loss_t", "loss_share", "stock_drawn_t", "rerouted_t", "note"])]);
  }, "Run restriction", out);
  const pactForm = form([
    field("Importer", input("importer", params.get("importer") || "IND", { size: 6 })),
    field("Supplier", input("supplier", params.get("supplier") || "RUS", { size: 6 })),
    field("Mineral", select("mineral", minerals, params.get("mineral") || "rare-earths")),
    field("Volume (t/yr)", input("volume", params.get("volume") || "300", { type: "number", min: 0 })),
    field("Mode", select("mode", [["redirect", "redirect existing exports"], ["new", "new capacity"]], params.get("mode") || "redirect")),
    stageField(params.get("stage") || "refined"), yearField(params.has("year") ? params.get("year") : "2024"),
    field("Rival", input("against", "CHN", { size: 6 })),
    field("Agreement", select("agreement", [["", "—"], ...agreements.rows.map((r) => [r.id, r.id])], params.get("agreement") || "")),
  ], (v) => {
    run("/scenarios/pact", {
      importer: v.importer, supplier: v.supplier, mineral: v.mineral, volume: v.volume, mode: v.mode,
      stage: v.stage, year: v.year, against: list(v.against), agreement: v.agreement || null,
    }, (d) => {
      const rows = Object.keys(d.before).map((k) => ({ metric: k, before: d.before[k], after: d.after[k] }));
      return [pactVerdict(d), ...resultView(d, rows, ["metric", "before", "after"]),
        el("h2", {}, "Feasibility"), table([d.feasibility])];
    });
  }, "Run agreement", out);
  const domesticForm = domesticTab(params, minerals, projects.rows, run, yearField, out);
  const sar = form([
    field("Mineral", select("mineral", minerals, params.get("mineral") || "cobalt")),
    field("Countries (optional)", input("countries", params.get("countries") || "", { size: 10, placeholder: "e.g. IND,EU27" })),
    field("Min. supply (t)", input("min_supply", params.get("min_supply") || "100", { type: "number", min: 0 })),
    field("Draws", input("draws", "10000", { type: "number", min: 100, max: 200000, step: 100 })),
    field("Seed", input("seed", "0", { type: "number", min: 0 })),
    stageField(params.get("stage")), yearField(params.get("year")),
    field("Cascade", el("input", { type: "checkbox", name: "cascade" })),
  ], (v) => {
    const { countries, min_supply: least, ...body } = v;
    const wanted = new Set(list(countries).map((c) => c.toUpperCase()));
    run("/scenarios/supply-at-risk", body, (d) => {
      const shown = d.countries.filter((r) => (!wanted.size || wanted.has(r.country))
        && (least === undefined || (r.supply_t ?? 0) >= least));
      const hidden = d.countries.length - shown.length;
      return [...resultView(d, shown,
        ["country", "supply_t", "expected_loss_share", "var95_share", "es95_share", "p_loss_over_10", "expected_loss_t", "note"]),
      hidden ? el("p", { class: "explain" }, `${hidden} ${hidden === 1 ? "country" : "countries"} not shown (`
        + [wanted.size ? "not among the countries asked" : "", least ? `supply below ${least.toLocaleString("en")} t` : ""].filter(Boolean).join(" or ")
        + "); every row is in the API and CLI outputs.") : null];
    });
  }, "Run Monte Carlo", out);
  const forms = { restrict, pact: pactForm, domestic: domesticForm, "supply-at-risk": sar, saved: null };
  const titles = { restrict: "Export restriction", pact: "Bilateral agreement", domestic: "Domestic capacity", "supply-at-risk": "Supply at risk", saved: "Compare saved" };
  const holder = el("div");
  const tabs = el("div", { class: "tabs", role: "tablist" });
  const show = (name) => {
    for (const b of tabs.children) b.classList.toggle("active", b.dataset.tab === name);
    put(out);
    if (name === "saved") {  // its own list and results; the link keeps what is ticked
      put(holder, savedScenarios(name === tab ? params : new URLSearchParams()));
      return;
    }
    put(holder, forms[name]);
    setHash("/scenarios", { tab: name });
  };
  for (const name of Object.keys(forms)) tabs.append(el("button", { type: "button", "data-tab": name, onclick: () => show(name) }, titles[name]));
  put(root, el("h1", {}, "What-if scenarios"), tabs, holder, out);
  show(tab in forms ? tab : "restrict");
  if (params.get("run") && forms[tab]) forms[tab].requestSubmit();
}

// New domestic output at a stage (GET /domestic): a documented project or a capacity, the
// imports it replaces and the feed it needs one stage up.
function domesticTab(params, minerals, projects, run, yearField, out) {
  const country = input("country", params.get("country") || "", { size: 6, placeholder: "e.g. IND" });
  const mineral = select("mineral", minerals, params.get("mineral") || "rare-earths");
  const stage = select("stage", [["", "project's, else headline"], ...STAGES.filter((s) => s !== "headline").map((s) => [s, s])], params.get("stage") || "");
  const project = el("select", { name: "project" });
  const capacity = input("capacity", params.get("capacity") || "", { type: "number", min: 0, placeholder: "or a project" });
  const byId = Object.fromEntries(projects.map((r) => [r.id, r]));
  const wanted = byId[params.get("project")];
  if (wanted && !country.value) country.value = wanted.country;
  // the projects for the country and mineral chosen, or all of them when none fits
  const fill = (chosen) => {
    const code = country.value.trim().toUpperCase();
    const fits = projects.filter((r) => (!code || r.country === code) && r.mineral === mineral.value);
    const rows = fits.length ? fits : projects;
    project.replaceChildren(...[["", fits.length ? "— (type a capacity)" : "— (none for these: all listed)"],
      ...rows.map((r) => [r.id, `${r.id} (${r.country}, ${r.mineral}, ${r.stage})`])]
      .map(([v, label]) => el("option", { value: v, selected: v === chosen }, label)));
  };
  fill(params.get("project") || "");
  country.addEventListener("change", () => fill(project.value));
  mineral.addEventListener("change", () => fill(project.value));
  project.addEventListener("change", () => {  // a project sets its own country, mineral and stage
    const r = byId[project.value];
    if (!r) return;
    country.value = r.country;
    mineral.value = r.mineral;
    stage.value = "";
    fill(r.id);
  });
  const f = form([
    field("Country", country), field("Mineral", mineral), field("Stage (optional)", stage),
    field("Project", project), field("Capacity (t/yr, basis)", capacity),
    field("Start (optional)", input("start", params.get("start") || "", { type: "number", min: 1900, max: 2200 })),
    field("Ramp years (optional)", input("ramp", params.get("ramp") || "", { type: "number", min: 0, max: 50 })),
    yearField(params.get("year") || ""),
    field("Displace", select("displace", [["pro-rata", "pro rata"], ["china-first", "restricted suppliers first"]], params.get("displace") || "pro-rata")),
    field("Restricting country", input("against", params.get("against") || "CHN", { size: 6 })),
  ], (v) => {
    if (!v.country) { fieldError(country, "type a country, e.g. IND"); return; }
    if ((v.project === undefined) === (v.capacity === undefined)) {
      fieldError(capacity, v.project ? "choose a project or type a capacity, not both" : "type a capacity or choose a project");
      return;
    }
    const q = new URLSearchParams(Object.entries(v).filter(([k]) => k !== "against"));
    for (const a of list(v.against)) q.append("against", a);
    run("/domestic?" + q, undefined, (d) => {
      const rows = Object.keys(d.before).map((k) => ({ metric: k, before: d.before[k], after: d.after[k] }));
      const feed = d.feed || {};
      const unit = `t ${d.basis}`;
      const sentence = !feed.upstream_stages || !feed.upstream_stages.length
        ? `The new output is at the first stage of the chain (${d.stage}): it needs no feed from another stage.`
        : `The new output needs ${fmt("feed_t", feed.feed_t)} ${unit} of feed one stage up; `
          + `${NAMES[d.country] || d.country} has at most ${fmt("domestic_t", feed.domestic_t)} ${unit} of its own left, `
          + `leaving ${fmt("shortfall_t", feed.shortfall_t)} ${unit} to import one stage up.`;
      const who = (d.against && d.against.suppliers || []).join(", ");
      const ups = (feed.imports || []).map((r) => ({ stage: r.stage, imports_t: r.imports_t, exports_t: r.exports_t, [`share_from_${who}`]: r.against_share }));
      return [...resultView(d, rows, ["metric", "before", "after"]),
        el("h2", {}, "Feed one stage up"), el("p", { class: "feed" }, sentence),
        ups.length ? table(ups) : null];
    });
  }, "Run domestic capacity", out);
  return f;
}

// Saved scenarios side by side: one column per scenario, one row per outcome.
const OUTCOME_ROWS = [
  ["title", "What"], ["kind", "Kind"], ["mineral", "Mineral"], ["year", "Year"], ["stage", "Stage"],
  ["country", "Country"], ["measure", "Headline"], ["loss_share", "Loss, share of supply"],
  ["loss_t", "Loss (t)"], ["loss_share_without", "Without the agreement"], ["feasible", "Feasible today"],
  ["delivery", "Delivery"], ["data_fingerprint", "Saved on data"], ["critmin_version", "Saved with critmin"],
  ["notes", "Notes and warnings"],
];

function outcomeCell(col, row, current) {
  const v = row[col];
  if (col === "feasible") {
    if (v === null || v === undefined) return "–";
    return el("span", { class: v ? "status-ok" : "status-no" }, v ? "yes" : "NOT feasible");
  }
  if (col === "data_fingerprint" && v) {
    return el("span", {}, el("code", {}, v), v === current ? " (the data served)" : " (other data: see the notes)");
  }
  if (col === "notes") {
    if (!v || !v.length) return "–";
    // a phone keeps the table short: the notes open on demand
    return el("details", { open: !matchMedia("(max-width: 600px)").matches },
      el("summary", {}, `${v.length} note${v.length > 1 ? "s" : ""}`),
      el("ul", { class: "cell-notes" }, v.map((n) => el("li", {}, n))));
  }
  return fmt(col, v);
}

function outcomesTable(data) {
  const rows = data.outcomes.rows;
  const head = el("tr", {}, el("th", { scope: "col" }, "Outcome"), rows.map((r) => el("th", { scope: "col" }, r.scenario.replace(/_/g, " "))));
  const body = OUTCOME_ROWS.map(([col, label]) => el("tr", { "data-outcome": col },
    el("th", { scope: "row" }, label),
    rows.map((r) => {
      const value = outcomeCell(col, r, data.data_fingerprint);
      return el("td", { class: typeof r[col] === "number" && col !== "year" ? "num" : null }, value);
    })));
  return el("div", { class: "table-wrap side-by-side" }, el("table", {}, el("thead", {}, head), el("tbody", {}, body)));
}

function savedScenarios(params) {
  const picked = new Set(list(params.get("pick")));
  let country = params.get("country") || "";
  const listBox = el("fieldset", { class: "saved-list" }, el("legend", {}, "Saved scenarios"), loading());
  const out = el("div", { id: "saved-result" });
  const node = el("div", { id: "saved-scenarios" },
    el("p", {}, "Scenarios saved with ", el("code", {}, "--save"), ": the India–Russia examples shipped with critmin and the files of the folder named by ",
      el("code", {}, "CRITMIN_SCENARIOS"), ". Tick two or more to compare them side by side."),
    listBox, out);
  let asked = 0;
  async function compare() {
    const names = [...picked];
    setHash("/scenarios", { tab: "saved", pick: names.join(","), country });
    if (names.length < 2) {
      put(out, el("p", { class: "explain" }, "Tick at least two scenarios."));
      return;
    }
    const mine = ++asked;
    put(out, loading(`Running ${names.length} scenarios…`));
    try {
      const data = await api("/saved-scenarios/compare?figures=true", { scenarios: names, country: country || null });
      if (mine !== asked) return;
      const countries = [...new Set(data.rows.map((r) => r.country))].sort((a, b) => (NAMES[a] || a).localeCompare(NAMES[b] || b));
      const pick = select("country", countries.map((c) => [c, NAMES[c] ? `${NAMES[c]} (${c})` : c]), data.country,
        (e) => { country = e.target.value; compare(); });
      put(out,
        el("div", { class: "controls" }, field("Outcomes of", pick)),
        el("h2", {}, `Side by side: ${NAMES[data.country] || data.country}`),
        outcomesTable(data),
        figureBox(data.figure, "The bar is the country's loss as a share of its supply under each scenario (with the agreement, for an agreement); the red mark is the loss without the agreement."),
        notesBox(data.notes),
        el("details", {}, el("summary", {}, `Every country (${data.total} rows, the table of critmin scenario compare)`),
          table(data.rows, ["scenario", "country", "loss_t", "loss_share", "exposure_before", "exposure_after", "china_share_before", "china_share_after", "expected_loss_share", "var95_share", "p_loss_over_10"])));
    } catch (err) {
      if (mine === asked) put(out, errorBox(err));
    }
  }
  (async () => {
    try {
      const data = await api("/saved-scenarios");
      const items = data.rows.map((r) => {
        const box = el("input", { type: "checkbox", name: "pick", value: r.name, checked: picked.has(r.name), disabled: Boolean(r.error),
          onchange: (e) => { if (e.target.checked) picked.add(r.name); else picked.delete(r.name); compare(); } });
        const about = r.error ? el("span", { class: "status-no" }, r.error)
          : el("span", { class: "about" }, `${r.kind}: ${r.title}`, el("br"),
            el("small", {}, `saved on data ${r.data_fingerprint} with critmin ${r.critmin_version}` + (r.source === "folder" ? " · from the scenarios folder" : "")));
        return el("label", { class: "saved-item" }, box, el("span", {}, el("strong", {}, r.name.replace(/_/g, " ")), el("br"), about));
      });
      put(listBox, el("legend", {}, "Saved scenarios"), items.length ? items : el("p", {}, "No saved scenarios."));
      for (const name of [...picked]) if (!data.rows.some((r) => r.name === name && !r.error)) picked.delete(name);
      await compare();
    } catch (err) {
      put(listBox, el("legend", {}, "Saved scenarios"), errorBox(err));
    }
  })();
  return node;
}

async function optimisePage(_arg, params) {
  const root = main();
  const minerals = await mineralOptions();
  const out = el("div", { id: "optimise-result" });
  const f = form([
    field("Importer", input("importer", params.get("importer") || "IND", { size: 6 })),
    field("Mineral", select("mineral", minerals, params.get("mineral") || "lithium")),
    field("Risk weight", input("risk", "1", { type: "number", min: 0, step: 0.1 })),
    field("Concentration weight", input("concentration", "1", { type: "number", min: 0, step: 0.1 })),
    field("Cost weight", input("cost", "0", { type: "number", min: 0, step: 0.1 })),
    field("Max share (share or %)", shareInput("max_share", params.get("max_share") || "", { placeholder: "none" })),
    field("Exclude", input("exclude", "", { size: 10, placeholder: "e.g. CHN" })),
    field("Min lot (t)", input("min_lot_t", "", { type: "number", min: 0, step: "any", placeholder: "none" })),
    field("Max suppliers", input("max_suppliers", "", { type: "number", min: 1, step: 1, placeholder: "any" })),
    field("Year", input("year", params.get("year") || "", { type: "number", min: YEARS.first, max: YEARS.last, placeholder: "latest" })),
    field("Origin-adjusted", el("input", { type: "checkbox", name: "origin_adjusted", checked: true })),
  ], async (v) => {
    put(out, loading("Optimising…"));
    setHash("/optimise", { importer: v.importer, mineral: v.mineral });
    try {
      const body = {
        importer: v.importer, mineral: v.mineral, year: v.year ?? null, max_share: v.max_share ?? null,
        exclude: list(v.exclude).length ? list(v.exclude) : null, origin_adjusted: v.origin_adjusted,
        min_lot_t: v.min_lot_t || null, max_suppliers: v.max_suppliers ?? null,
        weights: { risk: v.risk, concentration: v.concentration, cost: v.cost }, frontier_points: 15,
      };
      const d = await api("/optimise?figures=true", body);
      const metrics = Object.keys(d.before).map((k) => ({ metric: k, today: d.before[k], optimised: d.after[k] }));
      const cands = await api(`/suppliers?importer=${encodeURIComponent(v.importer)}&mineral=${encodeURIComponent(v.mineral)}` + (v.year ? `&year=${v.year}` : ""));
      const short = d.shortfall_t > 0 ? el("div", { class: "notes" },
        el("strong", {}, `Shortfall: ${Math.round(d.shortfall_t).toLocaleString()} t of ${Math.round(d.demand_t).toLocaleString()} t cannot be met; the mix below delivers the most (${Math.round(d.delivered_t).toLocaleString()} t). Binding, each lifted alone:`),
        el("ul", {}, d.binding.map((b) => el("li", {}, b.detail)))) : null;
      put(out,
        el("div", { class: "summary" }, d.summary), short,
        el("div", { class: "grid" }, figureBox(d.figure, d.shortfall_t > 0 ? "The best deliverable mix against today's, shares of what it delivers." : "The optimised mix against today's, shares of demand."),
          d.frontier_figure ? figureBox(d.frontier_figure, "Each point: the best mix for a weight between governance risk and cost. Concentration keeps its weight, so a point that looks dominated here buys a lower HHI.") : null),
        notesBox(d.notes),
        el("h2", {}, "Today and optimised"), table(metrics, ["metric", "today", "optimised"], { cells: BY_METRIC }),
        el("h2", {}, "Portfolio"), table(d.portfolio),
        el("h2", {}, "Candidate suppliers"), table(cands.rows, ["rank", "supplier", "production_t", "exports_t", "cap_t", "independent_t", "governance_risk", "china_origin_share", "hhi_change", "reason"]),
      );
    } catch (err) {
      put(out, errorBox(err));
    }
  }, "Optimise", out);
  put(root, el("h1", {}, "Diversified sourcing"),
    el("p", {}, "The supplier mix that minimises governance risk, concentration and cost for an importer's demand, within what each supplier can redirect."),
    f, out);
  f.requestSubmit();
}

async function companyPage(arg, params) {
  const root = main();
  const out = el("div", { id: "company-result" });
  let known = [];
  try {
    known = (await api("/companies")).companies;
  } catch (err) {
    put(root, errorBox(err));
    return;
  }
  if (!known.length) {
    put(root, el("h1", {}, "A company's supply"),
      el("p", {}, "No purchase records imported yet: fill the template (critmin data template purchases --out purchases.xlsx) or geopolrisk-py's company template, then run critmin data import purchases FILE."));
    return;
  }
  const f = form([
    field("Company", select("name", known.map((c) => [c, c]), arg || known[0])),
    field("Restricting country", input("restrict", params.get("restrict") || "", { size: 6, placeholder: "e.g. CHN" })),
    field("Year", input("year", params.get("year") || "", { type: "number", min: YEARS.first, max: YEARS.last, placeholder: "every year" })),
  ], async (v) => {
    put(out, loading("Computing…"));
    setHash(`/company/${encodeURIComponent(v.name)}`, { restrict: v.restrict || "", year: v.year ?? "" });
    try {
      const q = new URLSearchParams();
      if (v.restrict) q.set("restrict", v.restrict);
      if (v.year) q.set("year", v.year);
      const d = await api(`/company/${encodeURIComponent(v.name)}?${q}`);
      const cols = ["year", "mineral", "qty_basis_t", "n_suppliers", "hhi", "top_supplier", "top_supplier_share", "china_share", "china_share_traced", "controlled_share", "score", "cf", "score_compat", "cf_compat"];
      put(out,
        briefLinks(`/company/${encodeURIComponent(v.name)}/brief`, v.year ? [["year", v.year]] : []),
        el("h2", {}, "By material"), table(d.materials, v.restrict ? [...cols, "loss_t", "loss_share"] : cols),
        notesBox(d.notes),
        el("h2", {}, "Suppliers"), table(d.suppliers, ["year", "mineral", "supplier_country", "qty_basis_t", "share", "value_usd"]),
        el("h2", {}, "Bought under an export control in force"),
        d.controls.length ? table(d.controls, ["year", "mineral", "supplier_country", "event", "title", "targets", "share"]) : el("p", {}, "None."));
    } catch (err) {
      put(out, errorBox(err));
    }
  }, "Show", out);
  put(root, el("h1", {}, "A company's supply"),
    el("p", {}, "From the company's own purchase records: supplier mix and concentration, China's share bought directly and traced through the suppliers' own imports, GeoPolRisk (critmin's default and geopolrisk-py's company method), export controls in force, and the loss inherited from the supplier countries under a restriction."),
    f, out);
  f.requestSubmit();
}

async function registriesPage() {
  const root = main();
  put(root, el("h1", {}, "Agreements and export controls"), loading());
  try {
    const [agreements, events, projects] = await Promise.all([once("agreements", () => api("/agreements")),
      once("events", () => api("/events")), once("projects", () => api("/projects"))]);
    // one link per mineral the agreement names, run on the stage it names (else the refined
    // stage, the one a supply pact is about) and the latest year with data for it
    const pactLink = (r, mineral) => {
      const q = new URLSearchParams({ tab: "pact", agreement: r.id, run: "1", mineral });
      if (r.importer) q.set("importer", r.importer);
      if (r.supplier) q.set("supplier", r.supplier);
      q.set("stage", (r.stage && r.stage[0]) || "refined");
      q.set("year", "");
      return "#/scenarios?" + q;
    };
    const mineralLinks = (ms, r) => el("span", {}, (ms || []).flatMap((m, i) => [i ? ", " : "",
      r.importer && r.supplier ? el("a", { href: pactLink(r, m), title: `run ${r.id} for ${m}` }, m) : m]));
    const inForce = (r) => {
      if (r.status === "in force") return `since ${r.effective || r.status_date}`;
      if ((r.status === "suspended" || r.status === "lifted") && r.effective && r.status_date && r.status_date < r.effective) {
        return `never took effect (${r.status} ${r.status_date}, before ${r.effective})`;
      }
      if (r.status === "suspended" || r.status === "lifted") return `${r.effective || "?"} to ${r.ended || r.status_date}`;
      return r.status;
    };
    const eventLink = (id) => "#/scenarios?" + new URLSearchParams({ tab: "restrict", event: id, run: "1" });
    const byProject = Object.fromEntries(projects.rows.map((r) => [r.id, r]));
    // on the latest year with trade data for every stage (a project's start year is later)
    const projectLink = (id) => "#/scenarios?" + new URLSearchParams({
      tab: "domestic", project: id, country: byProject[id].country, mineral: byProject[id].mineral, year: String(YEARS.last), run: "1" });
    put(root,
      el("h1", {}, "Agreements and export controls"),
      el("h2", {}, "Critical-mineral agreements"),
      el("p", {}, "Click a mineral to run the agreement for it as a scenario (before/after and feasibility)."),
      table(agreements.rows, ["id", "title", "importer", "supplier", "minerals", "stage", "status", "announced", "signed", "source"], { cells: { minerals: mineralLinks } }),
      el("h2", {}, "Documented export controls"),
      el("p", {}, "Click an id to run the control as a restriction scenario."),
      table(events.rows.map((r) => ({ ...r, in_force: inForce(r) })), ["id", "title", "supplier", "minerals", "stage", "kind", "cut", "status", "in_force", "announced", "source"], { links: { id: eventLink } }),
      el("h2", {}, "Documented capacity projects"),
      el("p", {}, "Click an id to run the project as domestic capacity (the imports it replaces and the feed it needs)."),
      table(projects.rows, ["id", "title", "country", "mineral", "stage", "capacity", "unit", "capacity_t", "start_year", "ramp_years", "status", "source"], { links: { id: projectLink } }),
    );
  } catch (err) {
    put(root, errorBox(err));
  }
}

// -- routing -------------------------------------------------------------------------------

const PAGES = {
  world: worldPage, country: countryPage, mineral: mineralPage, scenarios: scenariosPage,
  optimise: optimisePage, registries: registriesPage, company: companyPage,
};

async function loadNames() {
  try {
    const data = await once("countries", () => api("/countries"));
    for (const r of data.rows) NAMES[r.iso3] = r.name;
  } catch (err) {
    // names are a nicety: codes still show
  }
}

async function route() {
  await loadNames();
  const hash = location.hash.replace(/^#\/?/, "") || "world";
  const [path, query] = hash.split("?");
  const [name, arg] = path.split("/");
  const page = PAGES[name] ? name : "world";
  for (const a of document.querySelectorAll("nav a[data-page]")) a.classList.toggle("active", a.dataset.page === page);
  document.title = `critmin — ${page}`;
  try {
    await PAGES[page](arg ? decodeURIComponent(arg) : "", new URLSearchParams(query || ""));
  } catch (err) {
    put(main(), errorBox(err));
  }
  document.body.dataset.ready = page;
  document.body.dataset.routed = String(Number(document.body.dataset.routed || 0) + 1);
}

window.addEventListener("hashchange", () => { document.body.dataset.ready = ""; route(); });
route();
