// The claims page: each claim of the essay with its passage, its counterfactuals, a button
// that computes the model's answer (cached on the server), and a link into the explorer.
"use strict";

(() => {
  const {el, follow, progressText, showProblems, formatNumber} = purgesim;
  const $ = id => document.getElementById(id);
  let meta = null;
  let listing = null;

  function settings() {
    return {scale: Number($("scale").value), seed: Number($("seed").value),
            seeds: Number($("seeds").value)};
  }

  function settingsQuery() {
    const s = settings();
    return `scale=${s.scale}&seed=${s.seed}&seeds=${s.seeds}`;
  }

  function explorerLink(test) {
    const s = settings();
    const p = new URLSearchParams();
    p.append("base", "great-terror");
    p.append("name", test.id);
    p.append("scale", s.scale);
    p.append("seed", s.seed);
    p.append("seeds", Math.min(s.seeds, meta.max_seeds));
    for (const [path, value] of [...test.changes].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      p.append(path, typeof value === "string" ? value : JSON.stringify(value));
    }
    return `/?${p.toString()}`;
  }

  function spreadText(s, kind) {
    if (!s || s.mean === null) return "n/a";
    const mean = formatNumber(s.mean, kind);
    if (s.p05 === s.p95) return mean;
    return `${mean} (${formatNumber(s.p05, kind)} to ${formatNumber(s.p95, kind)})`;
  }

  function answerTable(test) {
    const rows = test.rows.map(r => el("tr", {},
      el("td", {}, r.label),
      el("td", {class: "right"}, spreadText(r.history, r.kind)),
      el("td", {class: "right"}, spreadText(r.counterfactual, r.kind)),
      el("td", {class: "right"}, r.relative === null || r.relative === undefined ? "n/a"
        : `${r.relative > 0 ? "+" : ""}${(r.relative * 100).toFixed(1)}%`)));
    return el("table", {class: "answer"},
      el("thead", {}, el("tr", {}, el("th", {}, "figure"),
                         el("th", {class: "right"}, "great-terror, mean (90% interval)"),
                         el("th", {class: "right"}, "counterfactual, mean (90% interval)"),
                         el("th", {class: "right"}, "change of the mean"))),
      el("tbody", {}, rows));
  }

  function drawAnswer(claim, answer) {
    for (const test of answer.tests) {
      const box = document.querySelector(`[data-test="${claim.id}/${test.id}"] .answer-box`);
      box.replaceChildren(
        el("p", {class: "help"}, `The model's answer at 1:${answer.scale}, seeds `
                                 + `${answer.seeds[0]}-${answer.seeds[answer.seeds.length - 1]}:`),
        ...test.rows.map(r => el("p", {class: "sentence"}, r.text)),
        answerTable(test));
    }
  }

  async function compute(claim, button) {
    const status = document.querySelector(`[data-claim="${claim.id}"] .status`);
    button.disabled = true;
    status.textContent = "starting";
    const final = await follow(`/api/claim/${claim.id}?${settingsQuery()}`, event => {
      const pct = event.event === "progress" && event.fraction !== null
        ? ` (${Math.round(event.fraction * 100)}%)` : "";
      status.textContent = progressText(event) + pct;
    }).catch(e => ({event: "error", problems: [String(e)]}));
    button.disabled = false;
    if (final.event !== "done") {
      status.textContent = (final.problems || []).join("\n");
      return;
    }
    status.textContent = "";
    const answer = await (await fetch(`/api/result/claims/${final.result}`)).json();
    drawAnswer(claim, answer);
  }

  function drawClaims() {
    const box = $("claims");
    box.replaceChildren();
    for (const claim of listing.claims) {
      const button = el("button", {type: "button", class: "primary"}, "Compute the answer");
      button.addEventListener("click", () => compute(claim, button));
      box.append(el("article", {class: "claim", "data-claim": claim.id, id: claim.id},
        el("h2", {}, claim.title),
        el("blockquote", {}, claim.passage),
        claim.tests.map(test => el("div", {class: "test", "data-test": `${claim.id}/${test.id}`},
          el("p", {}, el("strong", {}, "Counterfactual: "), test.label,
             test.scenario ? ` (the shipped scenario ${test.scenario})` : "",
             ". ", el("a", {href: explorerLink(test)}, "Open it in the explorer")),
          el("p", {class: "help"}, `Changes from great-terror: ${test.changes.map(
            ([p, v]) => `${p} = ${JSON.stringify(v)}`).join("; ")}. Measured: `
            + `${test.figures.join("; ")}.`),
          el("div", {class: "answer-box"}))),
        el("div", {class: "actions"}, button, el("span", {class: "status help"}))));
      if (claim.answer) drawAnswer(claim, claim.answer);
    }
  }

  async function load() {
    const response = await fetch(`/api/claims?${settingsQuery()}`);
    if (!response.ok) {
      showProblems($("errors"), await purgesim.problemsOf(response));
      return;
    }
    showProblems($("errors"), []);
    listing = await response.json();
    drawClaims();
  }

  async function start() {
    meta = await (await fetch("/api/meta")).json();
    $("scale").replaceChildren(...meta.scales.map(s => el("option", {value: s}, s.toLocaleString("en-US"))));
    $("seeds").replaceChildren(...Array.from({length: meta.max_claim_seeds}, (_, i) => el(
      "option", {value: i + 1}, i + 1)));
    $("seeds").value = String(Math.min(5, meta.max_claim_seeds));
    for (const id of ["scale", "seed", "seeds"]) $(id).addEventListener("change", load);
    $("all").addEventListener("click", async () => {
      for (const claim of listing.claims) {
        const button = document.querySelector(`[data-claim="${claim.id}"] .actions button`);
        await compute(claim, button);
      }
    });
    await load();
  }

  start();
})();
