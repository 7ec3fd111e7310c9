// The explorer page: controls built from the scenario schema (served by /api/meta), the
// page's state kept in its link, runs followed as streams, and the results drawn with the
// report's own figures.
"use strict";

(() => {
  const {el, follow, progressText, showProblems, drawSection, problemsOf} = purgesim;
  const $ = id => document.getElementById(id);
  const SETTINGS = ["base", "name", "scale", "seed", "seeds"];
  const state = {base: "great-terror", name: "", scale: 2000, seed: 1, seeds: 1,
                 changes: new Map()};
  let meta = null;
  let baseValues = {};
  const handles = new Map();  // dotted path -> controls showing it (a field may have two)
  let running = null;         // the AbortController of the run being followed
  let chartsRun = null;
  let lastQuery = null;
  let lastNames = [];

  // ------------------------------------------------------------------ the link
  function encodeValue(value) {
    if (typeof value === "string") {
      try { JSON.parse(value); } catch (e) { return value; }
    }
    return JSON.stringify(value);
  }

  function decodeValue(text) {
    try { return JSON.parse(text); } catch (e) { return text; }
  }

  function query() {
    const p = new URLSearchParams();
    p.append("base", state.base);
    if (state.name) p.append("name", state.name);
    p.append("scale", state.scale);
    p.append("seed", state.seed);
    p.append("seeds", state.seeds);
    for (const path of [...state.changes.keys()].sort()) {
      p.append(path, encodeValue(state.changes.get(path)));
    }
    return p.toString();
  }

  function readLink() {
    const params = new URLSearchParams(location.search);
    state.base = params.get("base") || meta.default;
    state.name = params.get("name") || "";
    state.scale = Number(params.get("scale") || meta.min_scale);
    state.seed = Number(params.get("seed") || 1);
    state.seeds = Number(params.get("seeds") || 1);
    state.changes = new Map();
    for (const [key, value] of params) {
      if (!SETTINGS.includes(key)) state.changes.set(key, decodeValue(value));
    }
  }

  function writeLink() {
    history.replaceState(null, "", `?${query()}`);
    $("stale").hidden = lastQuery === null || lastQuery === query();
  }

  // ------------------------------------------------------------------ controls
  function same(a, b) {
    if (typeof a === "number" && typeof b === "number") return Math.abs(a - b) < 1e-12;
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function setChange(path, value) {
    if (same(value, baseValues[path])) state.changes.delete(path);
    else state.changes.set(path, value);
    for (const h of handles.get(path) || []) h.show(value);
    writeLink();
  }

  function valueOf(path) {
    return state.changes.has(path) ? state.changes.get(path) : baseValues[path];
  }

  function round3(x) { return Number(x.toPrecision(3)); }

  function sliderInputs(spec, id, emit) {
    const range = el("input", {type: "range", "aria-label": spec.label});
    const lo = spec.log ? Math.log10(spec.slider_min) : spec.slider_min;
    const hi = spec.log ? Math.log10(spec.slider_max) : spec.slider_max;
    Object.assign(range, {min: lo, max: hi, step: spec.log ? (hi - lo) / 200 : spec.step});
    const box = el("input", {type: "number", id, step: spec.integer ? 1 : "any",
                             min: spec.min ?? undefined, max: spec.max ?? undefined});
    const fromRange = () => {
      const x = Number(range.value);
      let v = spec.log ? round3(10 ** x) : round3(x);
      if (spec.integer) v = Math.round(v);
      emit(v);
    };
    range.addEventListener("input", fromRange);
    box.addEventListener("change", () => {
      if (box.value === "" || Number.isNaN(Number(box.value))) return;
      emit(spec.integer ? Math.round(Number(box.value)) : Number(box.value));
    });
    const show = v => {
      box.value = v ?? "";
      if (typeof v === "number") range.value = spec.log ? Math.log10(Math.max(v, spec.slider_min)) : v;
    };
    return {nodes: [range, box], show};
  }

  function otherInputs(spec, id, emit) {
    if (spec.kind === "switch") {
      const box = el("input", {type: "checkbox", id});
      box.addEventListener("change", () => emit(box.checked));
      return {nodes: [box], show: v => { box.checked = Boolean(v); }};
    }
    if (spec.kind === "select") {
      const options = spec.options.map(o => el("option", {value: JSON.stringify(o)}, o));
      if (spec.nullable) options.unshift(el("option", {value: "null"}, "(none)"));
      const select = el("select", {id}, options);
      select.addEventListener("change", () => emit(JSON.parse(select.value)));
      return {nodes: [select], show: v => { select.value = JSON.stringify(v ?? null); }};
    }
    const date = el("input", {type: "date", id, min: spec.min, max: spec.max});
    date.addEventListener("change", () => { if (date.value) emit(date.value); });
    return {nodes: [date], show: v => { date.value = v ?? ""; }};
  }

  let controlCount = 0;
  function buildControl(spec, withHelp) {
    const id = `control-${controlCount++}`;
    const base = el("span", {class: "base"});
    const wrap = el("div", {class: "control", "data-path": spec.path, title: spec.help || null});
    const emit = v => setChange(spec.path, v);
    const inputs = spec.kind === "slider" ? sliderInputs(spec, id, emit) : otherInputs(spec, id, emit);
    wrap.append(el("div", {class: "name"}, el("label", {for: id}, spec.label), base),
                el("div", {class: "inputs"}, inputs.nodes));
    if (withHelp && spec.help) wrap.append(el("p", {class: "help"}, spec.help));
    const handle = {
      show(v) {
        inputs.show(v);
        const changed = state.changes.has(spec.path);
        wrap.classList.toggle("changed", changed);
        base.textContent = changed ? `was ${JSON.stringify(baseValues[spec.path])}` : "";
      },
      node: wrap,
    };
    if (!handles.has(spec.path)) handles.set(spec.path, []);
    handles.get(spec.path).push(handle);
    return wrap;
  }

  function buildGroups() {
    for (const group of meta.controls.groups) {
      $("groups").append(el("section", {class: "group"}, el("h3", {}, group.title),
                            group.controls.map(spec => buildControl(spec, true))));
    }
  }

  let allBuilt = false;
  function buildAll() {
    if (allBuilt) return;
    allBuilt = true;
    for (const table of meta.controls.all) {
      const box = el("details", {}, el("summary", {}, `[${table.title}]`),
                     table.controls.map(spec => buildControl(spec, false)));
      $("all").append(box);
    }
    syncControls();
  }

  function syncControls() {
    for (const [path, list] of handles) for (const h of list) h.show(valueOf(path));
  }

  async function loadBase() {
    const response = await fetch(`/api/scenario/${encodeURIComponent(state.base)}`);
    if (!response.ok) {
      showProblems($("errors"), await problemsOf(response));
      return;
    }
    const body = await response.json();
    baseValues = body.values;
    $("base-description").textContent = body.description;
    $("base").value = state.base;
    $("scale").value = String(state.scale);
    $("seed").value = String(state.seed);
    $("seeds").value = String(state.seeds);
    syncControls();
  }

  // ------------------------------------------------------------------ running
  function setProgress(text, fraction) {
    $("progress").hidden = text === null;
    $("progress-label").textContent = text || "";
    if (fraction === null || fraction === undefined) $("bar").removeAttribute("value");
    else $("bar").value = fraction;
  }

  async function run() {
    if (running) running.abort();
    if (chartsRun) chartsRun.abort();
    const controller = new AbortController();
    running = controller;
    const q = query();
    showProblems($("errors"), []);
    $("run").disabled = true;
    $("stop").hidden = false;
    setProgress("starting", 0);
    let final;
    try {
      final = await follow(`/api/view?${q}`, event => setProgress(progressText(event),
                           event.event === "progress" ? event.fraction : 0), controller.signal);
    } catch (e) {
      final = controller.signal.aborted ? {event: "stopped"} : {event: "error", problems: [String(e)]};
    }
    if (running !== controller) return;  // a newer run took over
    running = null;
    $("run").disabled = false;
    $("stop").hidden = true;
    setProgress(null);
    if (final.event === "error") showProblems($("errors"), final.problems);
    if (final.event !== "done") return;
    const view = await (await fetch(`/api/result/views/${final.result}`)).json();
    render(view, q);
    loadCharts(q);
  }

  function render(view, q) {
    lastQuery = q;
    $("stale").hidden = true;
    $("result").hidden = false;
    const [before, after] = view.names;
    lastNames = view.names;
    $("changes").replaceChildren(...(view.changes.length ? view.changes.map(c => el(
      "li", {}, el("code", {}, c.path), `: ${JSON.stringify(c.from)} \u2192 ${JSON.stringify(c.to)}`))
      : [el("li", {}, `Nothing: this is ${before} as it ships. Move a control and run.`)]));
    const seeds = view.seeds.length === 1 ? `seed ${view.seeds[0]}`
      : `seeds ${view.seeds[0]}-${view.seeds[view.seeds.length - 1]} (means; the same seeds for both)`;
    $("run-info").textContent = after ? `${after} against ${before}, at 1:${view.scale}, ${seeds}.`
      : `${before} at 1:${view.scale}, ${seeds}.`;
    $("headline").replaceChildren(...view.headline.map(r => el("li", {"data-key": r.key}, r.text)));
    for (const [id, what] of [["dl-toml", "scenario.toml"], ["dl-summary", "summary.json"],
                              ["dl-report", "report.html"]]) {
      $(id).href = `/api/download/${what}?${q}`;
    }
    const compare = $("compare");
    compare.replaceChildren();
    for (const section of view.compare) {
      const plot = el("div", {class: "chart", id: `view-${section.key}`});
      compare.append(el("h3", {}, section.title), el("p", {class: "caption"}, section.caption), plot);
      drawSection(plot, section);
    }
    cascades = view.cascade;
    const which = $("cascade-which");
    which.replaceChildren(...view.names.map((n, i) => el("option", {value: i}, n)));
    which.value = String(view.names.length - 1);
    drawCascade(cascades[view.names.length - 1]);
    document.body.dataset.view = view.query;
  }

  // ------------------------------------------------------------------ the report's charts
  let reportCharts = null;
  async function loadCharts(q) {
    const controller = new AbortController();
    chartsRun = controller;
    $("report-status").textContent = "drawing the report's charts...";
    let final;
    try {
      final = await follow(`/api/charts?${q}`, event => {
        $("report-status").textContent = progressText(event);
      }, controller.signal);
    } catch (e) {
      return;
    }
    if (chartsRun !== controller) return;
    if (final.event !== "done") {
      $("report-status").textContent = (final.problems || []).join("\n");
      return;
    }
    reportCharts = await (await fetch(`/api/result/charts/${final.result}`)).json();
    $("report-status").textContent = "";
    const select = $("report-chart");
    const keep = select.value;
    select.replaceChildren(...reportCharts.unchanged.map(c => el("option", {value: c.key}, c.title)));
    if (keep && reportCharts.unchanged.some(c => c.key === keep)) select.value = keep;
    drawReportChart();
  }

  function drawReportChart() {
    if (!reportCharts) return;
    const key = $("report-chart").value;
    const find = list => (list || []).find(c => c.key === key);
    const left = find(reportCharts.unchanged);
    const right = find(reportCharts.changed);
    $("report-caption").textContent = left ? left.caption : "";
    $("report-left-title").textContent = lastNames[0] || "";
    $("report-right-title").textContent = right ? lastNames[1] : "";
    if (left) drawSection($("report-left"), left); else $("report-left").replaceChildren();
    if (right) drawSection($("report-right"), right); else $("report-right").replaceChildren();
  }

  // ------------------------------------------------------------------ the cascade
  let cascades = [];
  let shown = null;

  function drawCascade(cascade) {
    shown = cascade;
    const node = $("cascade-chart");
    $("cascade-person").replaceChildren();
    if (!cascade) {
      if (window.Plotly) window.Plotly.purge(node);
      node.replaceChildren(el("p", {class: "help"},
                              "Nobody arrested in this run led to another arrest."));
      return;
    }
    node.replaceChildren();
    const data = cascade.figure.data.concat([{
      x: [], y: [], mode: "markers", hoverinfo: "skip", showlegend: false, name: "selected",
      marker: {size: 22, color: "rgba(0,0,0,0)", line: {width: 3, color: "#f39c12"}}}]);
    const layout = Object.assign({}, cascade.figure.layout, {autosize: true});
    delete layout.width;
    window.Plotly.react(node, data, layout, {displaylogo: false, responsive: true}).then(() => {
      if (!node.dataset.bound) {
        node.dataset.bound = "1";
        node.on("plotly_click", event => {
          const p = event.points[0];
          const i = shown.nodes.findIndex(n => n.x === p.x && Math.abs(n.y - p.y) < 1e-9);
          if (i >= 0) selectPerson(i);
        });
      }
      selectPerson(0);
    });
  }

  function personLink(i) {
    const n = shown.nodes[i];
    return el("a", {role: "button", tabindex: 0, "data-node": i, onclick: () => selectPerson(i),
                    onkeydown: e => { if (e.key === "Enter") selectPerson(i); }},
              `person ${n.person}`);
  }

  function selectPerson(i) {
    const n = shown.nodes[i];
    const node = $("cascade-chart");
    window.Plotly.restyle(node, {x: [[n.x]], y: [[n.y]]}, [node.data.length - 1]);
    const labels = meta.labels;
    const weight = n.weight === 1 ? "one person" : `${n.weight.toLocaleString("en-US")} people`;
    const accuser = n.parent >= 0
      ? ["Named by ", personLink(n.parent), ` (generation ${shown.nodes[n.parent].x}).`]
      : [`The arrest that began this tree (${labels.source[n.source] || n.source}).`];
    const kids = n.children.length
      ? ["Named in turn, among those shown: ", ...n.children.flatMap((c, k) => (k ? [", ", personLink(c)] : [personLink(c)])), "."]
      : ["Nobody named by this person is shown."];
    $("cascade-person").replaceChildren(
      el("h3", {}, `Person ${n.person}, generation ${n.x} `,
         el("span", {class: n.guilty ? "guilty" : "innocent"},
            n.guilty ? "guilty" : "innocent"), " (ground truth)"),
      el("p", {}, `${n.occupation}; this agent stands for ${weight}.`),
      el("p", {}, `Arrested ${n.date}: ${labels.source[n.source] || n.source}, `
                  + `${labels.operation[n.operation] || n.operation}.`),
      el("p", {}, `${n.tortured ? "Tortured; " : ""}${n.confessed ? "confessed" : "did not confess"}`
                  + `; named ${n.named}.`),
      el("p", {}, `Sentence: ${labels.sentence[n.sentence] || "pending at the end"}.`),
      el("p", {}, ...accuser),
      el("p", {}, ...kids),
      el("p", {class: "help"}, `In the whole run, this person's accusations led to ${n.led_to} `
                               + `arrest(s).`));
    $("cascade-person").dataset.node = String(i);
  }

  // ------------------------------------------------------------------ uploads
  async function upload(file) {
    showProblems($("upload-errors"), []);
    $("upload-notes").textContent = "";
    const response = await fetch("/api/upload", {
      method: "POST", body: await file.text(),
      headers: {"Content-Type": "text/plain; charset=utf-8",
                "X-Filename": encodeURIComponent(file.name)}});
    $("upload").value = "";
    if (!response.ok) {
      showProblems($("upload-errors"), await problemsOf(response));
      return;
    }
    const body = await response.json();
    if (body.problems) {
      showProblems($("upload-errors"), body.problems);
      return;
    }
    $("upload-notes").textContent = body.notes.join("\n");
    history.replaceState(null, "", `?${body.query}`);
    readLink();
    await loadBase();
    run();
  }

  // ------------------------------------------------------------------ wiring
  async function start() {
    meta = await (await fetch("/api/meta")).json();
    $("base").replaceChildren(...Object.entries(meta.scenarios).map(([name, d]) => el(
      "option", {value: name, title: d}, name)));
    $("scale").replaceChildren(...meta.scales.map(s => el("option", {value: s}, s.toLocaleString("en-US"))));
    $("seeds").replaceChildren(...Array.from({length: meta.max_seeds}, (_, i) => el(
      "option", {value: i + 1}, i + 1)));
    buildGroups();
    readLink();
    if (!meta.scales.includes(state.scale)) {
      $("scale").append(el("option", {value: state.scale}, state.scale.toLocaleString("en-US")));
    }
    await loadBase();
    $("base").addEventListener("change", async () => {
      state.base = $("base").value;
      state.name = "";
      state.changes.clear();
      await loadBase();
      writeLink();
    });
    for (const id of ["scale", "seed", "seeds"]) {
      $(id).addEventListener("change", () => { state[id] = Number($(id).value); writeLink(); });
    }
    $("run").addEventListener("click", run);
    $("stop").addEventListener("click", () => { if (running) running.abort(); });
    $("reset").addEventListener("click", () => {
      state.changes.clear();
      state.name = "";
      syncControls();
      writeLink();
    });
    $("copy").addEventListener("click", () => {
      navigator.clipboard.writeText(location.href).catch(() => {});
    });
    $("upload").addEventListener("change", () => {
      if ($("upload").files.length) upload($("upload").files[0]);
    });
    $("all-params").addEventListener("toggle", buildAll);
    $("filter").addEventListener("input", () => {
      const text = $("filter").value.toLowerCase();
      for (const node of $("all").querySelectorAll(".control")) {
        node.hidden = !node.dataset.path.toLowerCase().includes(text);
      }
      for (const box of $("all").querySelectorAll("details")) box.open = Boolean(text);
    });
    $("report-chart").addEventListener("change", drawReportChart);
    $("cascade-which").addEventListener("change", () => drawCascade(cascades[Number($("cascade-which").value)]));
    writeLink();
    run();
  }

  start();
})();
