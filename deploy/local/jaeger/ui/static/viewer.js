// The page: a search form kept in the URL (/?service=…&tags=…), its results, and one trace as a
// waterfall at /trace/<id>?<the search>. Every view is a plain URL, loaded whole: a link can be
// shared, the back button works. Only Jaeger's query API is read; nothing is written.
import {
  formatDuration,
  formatStart,
  isError,
  linksOf,
  lookbackMicros,
  normalTraceId,
  parentOf,
  parseTags,
  searchQuery,
  serviceOf,
  servicesOf,
  summary,
  waterfall,
} from "./trace.js";

const COLOURS = 10;
const $ = (id) => document.getElementById(id);
let knownServices = [];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, val] of Object.entries(attrs)) {
    if (key === "class") node.className = val;
    else if (key === "text") node.textContent = val;
    else node.setAttribute(key, val);
  }
  for (const child of children) node.append(child);
  return node;
}

function colourOf(service) {
  let index = knownServices.indexOf(service);
  if (index < 0) index = [...service].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  return `svc-${index % COLOURS}`;
}

function status(text, kind = "") {
  $("status").textContent = text;
  $("status").className = `status ${kind}`.trim();
}

async function api(path) {
  const answer = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await answer.json().catch(() => null);
  if (!answer.ok) {
    const why = body && body.errors ? body.errors.map((e) => e.msg).join("; ") : answer.statusText;
    throw new Error(`Jaeger answered ${answer.status}: ${why}`);
  }
  return body;
}

// --- the search -------------------------------------------------------------------------

function searchFromUrl(params) {
  return {
    service: params.get("service") || "",
    operation: params.get("operation") || "",
    tagsText: params.get("tags") || "",
    lookback: lookbackMicros(params.get("lookback")) ? params.get("lookback") : "1h",
    limit: params.get("limit") || "20",
  };
}

/** The search's own query string (what the form submits), for links back to it. */
function searchString(search) {
  const params = new URLSearchParams();
  for (const [key, val] of Object.entries({
    service: search.service,
    operation: search.operation,
    tags: search.tagsText,
    lookback: search.lookback,
    limit: search.limit,
  })) {
    if (val) params.set(key, val);
  }
  return params.toString();
}

function fieldError(id, message) {
  const input = $(id);
  const error = $(`${id}-error`);
  error.textContent = message || "";
  error.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  return Boolean(message);
}

/** Checks the search form; shows each error beside its field. Returns the search or null. */
function validSearch() {
  const search = {
    service: $("service").value,
    operation: $("operation").value,
    tagsText: $("tags").value.trim(),
    lookback: $("lookback").value,
    limit: $("limit").value.trim(),
  };
  const tags = parseTags(search.tagsText);
  const limit = Number(search.limit);
  const wrong = [
    fieldError("service", search.service ? "" : "Service: choose the service whose spans to search."),
    fieldError("tags", tags.error ? `Tags: ${tags.error}.` : ""),
    fieldError(
      "limit",
      Number.isInteger(limit) && limit >= 1 && limit <= 1500
        ? ""
        : "Limit: a whole number from 1 to 1500.",
    ),
  ];
  const first = ["service", "tags", "limit"].find((_, i) => wrong[i]);
  if (first) {
    $(first).focus();
    return null;
  }
  return { ...search, tags: tags.tags };
}

async function fillOperations(service, selected) {
  const select = $("operation");
  select.replaceChildren(el("option", { value: "", text: "All operations" }));
  if (!service) return;
  const answer = await api(`/api/services/${encodeURIComponent(service)}/operations`);
  for (const name of [...(answer.data || [])].sort()) {
    select.append(el("option", { value: name, text: name }));
  }
  select.value = selected && (answer.data || []).includes(selected) ? selected : "";
}

async function fillForm(search) {
  const answer = await api("/api/services");
  knownServices = [...(answer.data || [])].sort();
  const select = $("service");
  for (const name of knownServices) select.append(el("option", { value: name, text: name }));
  if (search.service && !knownServices.includes(search.service)) {
    select.append(el("option", { value: search.service, text: `${search.service} (no spans yet)` }));
  }
  select.value = search.service;
  $("tags").value = search.tagsText;
  $("lookback").value = search.lookback;
  $("limit").value = search.limit;
  await fillOperations(search.service, search.operation);
}

function serviceChips(services) {
  const list = el("ul", { class: "chips" });
  for (const { name, spans } of services) {
    list.append(
      el("li", { class: `chip ${colourOf(name)}` }, el("span", { class: "swatch", "aria-hidden": "true" }), `${name} (${spans})`),
    );
  }
  return list;
}

async function runSearch(search) {
  const tags = parseTags(search.tagsText);
  const limit = Number(search.limit);
  if (tags.error) return fieldError("tags", `Tags: ${tags.error}.`);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1500) {
    return fieldError("limit", "Limit: a whole number from 1 to 1500.");
  }
  status("Searching…");
  const query = searchQuery({ ...search, tags: tags.tags, limit }, Date.now() * 1000);
  const answer = await api(`/api/traces?${query}`);
  const traces = (answer.data || []).map(summary).sort((a, b) => b.start - a.start);
  const body = $("results-table").tBodies[0];
  body.replaceChildren();
  const back = searchString(search);
  for (const trace of traces) {
    const root = trace.root ? `${trace.root.service}: ${trace.root.operation}` : "(no spans)";
    const link = el("a", { href: `/trace/${trace.traceID}?${back}` }, root);
    const cell = el("td", {}, link, " ", el("code", { class: "id", text: trace.traceID.slice(0, 8) }));
    if (trace.rootIsOrphan) cell.append(el("span", { class: "warn", text: " parent span missing" }));
    const errors = el("td", { class: "num", text: String(trace.errors) });
    if (trace.errors) errors.classList.add("has-errors");
    body.append(
      el(
        "tr",
        {},
        cell,
        el("td", {}, serviceChips(trace.services)),
        el("td", { class: "num", text: String(trace.spans) }),
        errors,
        el("td", { class: "num", text: formatDuration(trace.duration) }),
        el("td", {}, el("time", { datetime: new Date(trace.start / 1000).toISOString(), text: formatStart(trace.start) })),
      ),
    );
  }
  $("results").hidden = traces.length === 0;
  const period = $("lookback").selectedOptions[0].textContent.toLowerCase();
  status(
    traces.length
      ? `${traces.length} trace${traces.length > 1 ? "s" : ""} found (${period}).`
      : `No trace of ${search.service} matches this search (${period}).`,
  );
  return true;
}

// --- one trace ----------------------------------------------------------------------------

function table(caption, rows) {
  const body = el("tbody");
  for (const [key, val] of rows) {
    body.append(el("tr", {}, el("th", { scope: "row", text: key }), el("td", { text: String(val) })));
  }
  return el("table", { class: "kv" }, el("caption", { text: caption }), body);
}

function definitionList(entries) {
  const list = el("dl", { class: "facts" });
  for (const [term, detail] of entries) list.append(el("dt", { text: term }), el("dd", {}, detail));
  return list;
}

function tagValue(tags, key) {
  const found = (tags || []).find((t) => t.key === key);
  return found ? String(found.value) : "";
}

function spanDetails(trace, span, start, byId, id) {
  const process = span.process || trace.processes[span.processID] || { tags: [] };
  const parent = parentOf(span);
  const parentText = !parent
    ? "none: the trace's root"
    : byId.has(parent)
      ? `${parent} (${serviceOf(trace, byId.get(parent))}: ${byId.get(parent).operationName})`
      : `${parent} (not received)`;
  const statusText = isError(span)
    ? `error${tagValue(span.tags, "otel.status_description") ? `: ${tagValue(span.tags, "otel.status_description")}` : ""}`
    : tagValue(span.tags, "otel.status_code") || "unset";
  const box = el("div", { class: "details", id, role: "region", "aria-label": `Span ${span.operationName}` });
  box.append(
    definitionList([
      ["Service", serviceOf(trace, span)],
      ["Operation", span.operationName],
      ["Span id", el("code", { text: span.spanID })],
      ["Parent", parentText],
      ["Kind", tagValue(span.tags, "span.kind") || "unspecified"],
      ["Status", statusText],
      ["Starts", `+${formatDuration(span.startTime - start)} (${formatStart(span.startTime)})`],
      ["Duration", formatDuration(span.duration)],
    ]),
  );
  const attributes = [...(span.tags || [])].sort((a, b) => a.key.localeCompare(b.key));
  box.append(
    attributes.length
      ? table(`Attributes (${attributes.length})`, attributes.map((t) => [t.key, t.value]))
      : el("p", { text: "No attributes." }),
  );
  const events = span.logs || [];
  const eventsBox = el("section", { class: "events" }, el("h4", { text: `Events (${events.length})` }));
  for (const event of events) {
    const fields = event.fields || [];
    const name = tagValue(fields, "event") || "event";
    eventsBox.append(
      table(
        `+${formatDuration(event.timestamp - start)} ${name}`,
        fields.filter((f) => f.key !== "event").map((f) => [f.key, f.value]),
      ),
    );
  }
  if (!events.length) eventsBox.append(el("p", { text: "No events." }));
  box.append(eventsBox);
  const links = linksOf(span);
  const linksBox = el("section", { class: "links" }, el("h4", { text: `Links (${links.length})` }));
  if (links.length) {
    const list = el("ul");
    for (const link of links) {
      const same = link.traceID === trace.traceID;
      const target = same && byId.has(link.spanID) ? `#span-${link.spanID}` : `/trace/${link.traceID}`;
      const label = same ? `span ${link.spanID} of this trace` : `span ${link.spanID} of trace ${link.traceID}`;
      list.append(el("li", {}, `${link.refType === "FOLLOWS_FROM" ? "follows from" : "child of"} `, el("a", { href: target, text: label })));
    }
    linksBox.append(list);
  } else {
    linksBox.append(el("p", { text: "No links." }));
  }
  box.append(linksBox);
  const resource = [...(process.tags || [])].sort((a, b) => a.key.localeCompare(b.key));
  box.append(
    resource.length
      ? table(`Resource of ${serviceOf(trace, span)}`, resource.map((t) => [t.key, t.value]))
      : el("p", { text: `No resource attributes for ${serviceOf(trace, span)}.` }),
  );
  return box;
}

function ruler(duration) {
  const marks = el("div", { class: "marks" });
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const mark = el("span", { class: "mark", text: formatDuration(duration * fraction) });
    mark.style.left = `${fraction * 100}%`;
    marks.append(mark);
  }
  return marks;
}

async function showTrace(id, back) {
  $("back").href = back ? `/?${back}` : "/";
  status("Loading the trace…");
  const answer = await api(`/api/traces/${encodeURIComponent(id)}`);
  const trace = (answer.data || [])[0];
  if (!trace || !trace.spans.length) throw new Error(`Jaeger holds no trace ${id}.`);
  const facts = summary(trace);
  knownServices = knownServices.length ? knownServices : servicesOf(trace).sort();
  document.title = `${facts.root.service}: ${facts.root.operation} · trace ${trace.traceID.slice(0, 8)}`;
  $("trace-title").textContent = `${facts.root.service}: ${facts.root.operation}`;
  $("trace-summary").replaceChildren(
    ...[
      ["Trace id", el("code", { text: trace.traceID })],
      ["Start", formatStart(facts.start)],
      ["Duration", formatDuration(facts.duration)],
      ["Services", String(facts.services.length)],
      ["Spans", String(facts.spans)],
      ["Errors", String(facts.errors)],
    ].flatMap(([term, detail]) => [el("dt", { text: term }), el("dd", {}, detail)]),
  );
  $("legend").replaceChildren(...serviceChips(facts.services).children);
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const total = Math.max(facts.duration, 1);
  const list = $("spans");
  list.replaceChildren();
  $("waterfall").querySelector(".ruler").replaceChildren(el("span"), ruler(facts.duration), el("span"));
  for (const [index, row] of waterfall(trace).entries()) {
    const { span, depth } = row;
    const service = serviceOf(trace, span);
    const detailsId = `details-${index}`;
    const label = el(
      "button",
      { type: "button", class: "span-label", "aria-expanded": "false", "aria-controls": detailsId, id: `span-${span.spanID}` },
      el("span", { class: `swatch ${colourOf(service)}`, "aria-hidden": "true" }),
      el("span", { class: "service", text: service }),
      " ",
      el("span", { class: "operation", text: span.operationName, title: span.operationName }),
    );
    label.style.paddingLeft = `${0.4 + depth * 1.1}rem`;
    if (isError(span)) label.append(" ", el("span", { class: "error-mark", text: "error" }));
    if (row.orphan) label.append(" ", el("span", { class: "warn", text: "parent missing" }));
    const bar = el("span", { class: `bar ${colourOf(service)}`, "aria-hidden": "true" });
    bar.style.left = `${((span.startTime - facts.start) / total) * 100}%`;
    bar.style.width = `${Math.max((span.duration / total) * 100, 0.3)}%`;
    if (isError(span)) bar.classList.add("error");
    const timing = el("span", { class: "timing", text: `${formatDuration(span.duration)} at +${formatDuration(span.startTime - facts.start)}` });
    const item = el(
      "li",
      { class: isError(span) ? "span-row has-error" : "span-row", "data-service": service },
      el("div", { class: "row" }, label, el("div", { class: "lane" }, bar), timing),
    );
    let details = null;
    label.addEventListener("click", () => {
      const open = label.getAttribute("aria-expanded") === "true";
      if (!details) {
        details = spanDetails(trace, span, facts.start, byId, detailsId);
        item.append(details);
      }
      details.hidden = open;
      label.setAttribute("aria-expanded", String(!open));
    });
    list.append(item);
  }
  $("trace").hidden = false;
  $("search").closest("section").hidden = true;
  status(`${facts.spans} spans across ${facts.services.map((s) => s.name).join(", ")}.`);
}

/** Up and down arrows (Home, End) move between the spans' buttons. */
function keyboard(event) {
  const buttons = [...$("spans").querySelectorAll(".span-label")];
  const at = buttons.indexOf(document.activeElement);
  if (at < 0) return;
  const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
  if (to === undefined || !buttons[to]) return;
  event.preventDefault();
  buttons[to].focus();
}

// --- wiring --------------------------------------------------------------------------------

function failed(error) {
  status(error.message || String(error), "failure");
}

async function main() {
  const params = new URLSearchParams(location.search);
  const search = searchFromUrl(params);
  const opened = location.pathname.match(/^\/trace\/([^/]+)\/?$/);
  const typed = params.get("trace");
  if (typed && !opened) {
    const id = normalTraceId(typed);
    params.delete("trace");
    if (id) return location.replace(`/trace/${id}?${searchString(search)}`);
    $("trace-id").value = typed;
    fieldError("trace-id", "Trace id: up to 32 hexadecimal digits (0-9, a-f).");
  }
  $("service").addEventListener("change", () =>
    fillOperations($("service").value, "").catch(failed),
  );
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const search = validSearch();
    // The same URL as a link back to this search: empty fields left out.
    if (search) location.assign(`/?${searchString(search)}`);
  });
  $("open").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = normalTraceId($("trace-id").value);
    if (fieldError("trace-id", id ? "" : "Trace id: up to 32 hexadecimal digits (0-9, a-f).")) {
      $("trace-id").focus();
      return;
    }
    location.assign(`/trace/${id}?${searchString(searchFromUrl(new URLSearchParams(location.search)))}`);
  });
  $("spans").addEventListener("keydown", keyboard);
  try {
    await fillForm(search);
    if (opened) await showTrace(decodeURIComponent(opened[1]), searchString(search));
    else if (search.service) await runSearch(search);
  } catch (error) {
    failed(error);
  }
}

main();
