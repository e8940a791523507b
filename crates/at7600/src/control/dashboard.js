// The at7600 dashboard: the modem list and a modem's line as server-sent events,
// read with fetch (so that the bearer token can go in a header), and buttons that
// call the fault and DTR endpoints. No framework, no build step.
"use strict";

const MAX_LINES = 500; // transcript rows kept on the page
const RETRY_MS = 2000; // before reconnecting a stream that ended

let token = sessionStorage.getItem("at7600-token") || "";
let chosen = null; // the watched modem's id
let listStream = null;
let lineStream = null;

const $ = (id) => document.getElementById(id);

function headers(json) {
  const h = {};
  if (token) h["Authorization"] = "Bearer " + token;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

// The API's one error shape: {"error":{"code":...,"message":...}}.
async function failure(response) {
  try {
    const body = await response.json();
    return new Error(body.error.message + " (" + response.status + ")");
  } catch (_) {
    return new Error("HTTP " + response.status);
  }
}

// Reads a text/event-stream answer, calling onEvent(name, data) for each event, until
// the stream ends or `signal` aborts it.
async function stream(path, onEvent, signal) {
  const response = await fetch(path, { headers: headers(false), signal });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, data.join("\n"));
    }
  }
}

// Keeps a stream open: reconnects after RETRY_MS when it ends or fails, until stopped.
function keep(path, onEvent, onError) {
  const control = new AbortController();
  (async () => {
    while (!control.signal.aborted) {
      try {
        await stream(path, onEvent, control.signal);
      } catch (e) {
        if (control.signal.aborted) return;
        onError(e);
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  })();
  return control;
}

function status(text, bad) {
  $("status").textContent = text;
  $("status").className = bad ? "error" : "";
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function rate(x) {
  return x < 10 ? x.toFixed(1) : Math.round(x).toString();
}

function showModems(modems) {
  status(modems.length + " modem(s), live");
  const body = $("modems").tBodies[0];
  body.replaceChildren();
  for (const m of modems) {
    const tr = document.createElement("tr");
    tr.id = "modem-" + m.id;
    if (m.id === chosen) tr.className = "chosen";
    const links = m.links.map((l) => l.link + ":" + l.protocol + " " + l.state + " " + l.remote);
    tr.append(
      cell(m.id),
      cell(m.front_end),
      cell(m.state, "state state-" + m.state),
      cell(m.dtr ? "on" : "off", "dtr"),
      cell(m.ip || ""),
      cell(links.join("\n") || "none"),
      cell(rate(m.rates.host_in) + " / " + rate(m.rates.host_out)),
      cell(rate(m.rates.net_sent) + " / " + rate(m.rates.net_received)),
      cell(m.last_commands.join("\n"), "commands"),
    );
    const watch = document.createElement("button");
    watch.textContent = "watch";
    watch.id = "watch-" + m.id;
    watch.addEventListener("click", () => choose(m.id));
    const td = document.createElement("td");
    td.append(watch);
    tr.append(td);
    body.append(tr);
  }
}

function addLine(line) {
  const pre = $("transcript");
  const row = document.createElement("div");
  row.className = line.dir;
  const arrow = { in: "→ ", out: "← ", lost: "… " }[line.dir] || "";
  row.textContent = arrow + (line.dir === "lost" ? line.text + " pieces lost (too slow)" : line.text);
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(row);
  while (pre.childElementCount > MAX_LINES) pre.firstElementChild.remove();
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

function choose(id) {
  chosen = id;
  $("modem").hidden = false;
  $("chosen").textContent = id;
  $("transcript").replaceChildren();
  $("result").textContent = "";
  for (const tr of $("modems").tBodies[0].rows) {
    tr.className = tr.id === "modem-" + id ? "chosen" : "";
  }
  if (lineStream) lineStream.abort();
  lineStream = keep(
    "/modems/" + id + "/transcript",
    (name, data) => { if (name === "line") addLine(JSON.parse(data)); },
    (e) => result(e.message, true),
  );
}

function result(text, bad) {
  $("result").textContent = text;
  $("result").className = bad ? "error" : "";
}

async function post(path, body, what) {
  try {
    const response = await fetch(path, { method: "POST", headers: headers(true), body });
    if (!response.ok) throw await failure(response);
    result(what + ": done");
  } catch (e) {
    result(what + ": " + e.message, true);
  }
}

// The fault buttons: one per kind, from the API's own description of a fault.
async function faultButtons() {
  const box = $("faults");
  try {
    const response = await fetch("/openapi.json", { headers: headers(false) });
    if (!response.ok) throw await failure(response);
    const doc = await response.json();
    box.replaceChildren();
    for (const kind of doc.components.schemas.Fault.oneOf) {
      if (kind.title === "dtr") continue; // its own buttons
      const example = kind.examples[0];
      const b = document.createElement("button");
      b.id = "fault-" + kind.title;
      b.textContent = kind.title;
      b.title = kind.description + "\n" + JSON.stringify(example);
      b.addEventListener("click", () =>
        post("/modems/" + chosen + "/fault", JSON.stringify(example), kind.title));
      box.append(b);
    }
  } catch (e) {
    box.textContent = "fault kinds: " + e.message;
  }
}

function start() {
  if (listStream) listStream.abort();
  status("connecting…");
  listStream = keep(
    "/events/modems",
    (name, data) => { if (name === "modems") showModems(JSON.parse(data)); },
    (e) => status(e.message, true),
  );
  faultButtons();
  if (chosen !== null) choose(chosen);
}

for (const id of ["dtr-on", "dtr-off"]) {
  $(id).addEventListener("click", (e) => {
    const on = e.target.dataset.dtr === "true";
    post("/modems/" + chosen + "/dtr", JSON.stringify({ on }), "DTR " + (on ? "on" : "off"));
  });
}

$("token").value = token;
$("auth").addEventListener("submit", (e) => {
  e.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("at7600-token", token);
  start();
});

start();
