// What both pages share: building elements, following a job's stream of events, showing
// problems, drawing a report section (a Plotly figure or a table).
"use strict";

const purgesim = (() => {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // The lines of a refused request ({"problems": [...]}), or its status if it has none.
  async function problemsOf(response) {
    try {
      const body = await response.json();
      if (Array.isArray(body.problems)) return body.problems;
    } catch (e) { /* not JSON */ }
    return [`error: the server answered ${response.status} ${response.statusText}`];
  }

  // Follow a job's server-sent events; resolves with the final event ("done" or "error").
  // Aborting `signal` closes the connection, which cancels the job on the server.
  async function follow(url, onEvent, signal) {
    const response = await fetch(url, {signal, headers: {Accept: "text/event-stream"}});
    if (!response.ok) return {event: "error", problems: await problemsOf(response)};
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return {event: "error", problems: ["error: the connection closed early"]};
      buffer += decoder.decode(value, {stream: true});
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const chunk = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = chunk.split("\n").filter(l => l.startsWith("data: "))
          .map(l => l.slice(6)).join("\n");
        if (!data) continue;
        const event = JSON.parse(data);
        if (event.event === "done" || event.event === "error") {
          reader.cancel().catch(() => {});
          return event;
        }
        onEvent(event);
      }
    }
  }

  function progressText(event) {
    if (event.event === "waiting") {
      return event.ahead ? `waiting: ${event.ahead} job(s) ahead` : "waiting for a worker";
    }
    if (event.event === "progress") return event.label || "running";
    return "";
  }

  function showProblems(node, lines) {
    node.textContent = (lines || []).join("\n");
  }

  function table(spec) {
    const head = el("tr", {}, spec.header.map((h, i) => el("th", {class: spec.align[i]}, h)));
    const rows = spec.rows.map(r => el("tr", {}, r.map((c, i) => el("td", {class: spec.align[i]}, c))));
    return el("table", {}, el("thead", {}, head), el("tbody", {}, rows));
  }

  // A report section into `node`: its figure (drawn by plotly.js) or its table.
  function drawSection(node, section, height) {
    node.replaceChildren();
    if (section.table) {
      node.append(table(section.table));
      return;
    }
    const figure = section.figure;
    const layout = Object.assign({}, figure.layout, {autosize: true});
    if (height) layout.height = height;
    delete layout.width;
    window.Plotly.react(node, figure.data, layout,
                        {displaylogo: false, responsive: true});
  }

  function formatNumber(x, kind) {
    if (x === null || x === undefined) return "n/a";
    if (kind === "share") return `${(x * 100).toFixed(2)}%`;
    if (kind === "number") return x.toFixed(2);
    return Math.round(x).toLocaleString("en-US");
  }

  return {el, problemsOf, follow, progressText, showProblems, table, drawSection,
          formatNumber};
})();
