// What the viewer computes from Jaeger's JSON (GET /api/traces, /api/traces/{id}), without the
// page: a trace's summary, its spans in call order with their depth, and the search's query.
// Jaeger's times are microseconds since the epoch, its durations microseconds.

const LOOKBACK_UNITS = { m: 60, h: 3600, d: 86400 };

/** The microseconds a lookback such as "15m", "1h" or "7d" stands for, or null. */
export function lookbackMicros(lookback) {
  const match = /^(\d+)([mhd])$/.exec(lookback || "");
  return match ? Number(match[1]) * LOOKBACK_UNITS[match[2]] * 1e6 : null;
}

/** Tags typed as `key=value key2="a value"` into a map, or an error naming what is wrong. */
export function parseTags(text) {
  const tags = {};
  const pattern = /\s*([^\s=]+)=("((?:[^"\\]|\\.)*)"|[^\s"]*)\s*/y;
  let at = 0;
  const source = (text || "").trim();
  while (at < source.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(source);
    if (!match) {
      const rest = source.slice(at).split(/\s+/)[0];
      return { error: `"${rest}" is not key=value` };
    }
    const value = match[3] !== undefined ? match[3].replace(/\\(.)/g, "$1") : match[2];
    if (value === "") return { error: `${match[1]} has no value: write ${match[1]}=value` };
    tags[match[1]] = value;
    at = pattern.lastIndex;
  }
  return { tags };
}

/** A trace id as Jaeger writes it (lower-case hexadecimal, up to 32 digits), or null. */
export function normalTraceId(text) {
  const id = (text || "").trim().toLowerCase();
  return /^[0-9a-f]{1,32}$/.test(id) ? id : null;
}

function value(tags, key) {
  const found = (tags || []).find((tag) => tag.key === key);
  return found ? found.value : undefined;
}

/** Whether a span ended in error: OpenTelemetry's status, as Jaeger turns it into tags. */
export function isError(span) {
  const error = value(span.tags, "error");
  return error === true || error === "true" || value(span.tags, "otel.status_code") === "ERROR";
}

/** The span this one is a child of, within the same trace (null for a root). */
export function parentOf(span) {
  const ref = (span.references || []).find(
    (r) => r.refType === "CHILD_OF" && r.traceID === span.traceID,
  );
  return ref ? ref.spanID : span.parentSpanID || null;
}

/** The references of a span that are not its parent: OpenTelemetry's links. */
export function linksOf(span) {
  const parent = parentOf(span);
  return (span.references || []).filter(
    (r) => !(r.refType === "CHILD_OF" && r.traceID === span.traceID && r.spanID === parent),
  );
}

/** The service names of a trace in order of first appearance, for colours and the legend. */
export function servicesOf(trace) {
  const seen = [];
  for (const span of [...trace.spans].sort((a, b) => a.startTime - b.startTime)) {
    const name = serviceOf(trace, span);
    if (!seen.includes(name)) seen.push(name);
  }
  return seen;
}

export function serviceOf(trace, span) {
  const process = span.process || trace.processes[span.processID];
  return process ? process.serviceName : "?";
}

/** The spans in call order (each after its parent, siblings by start), with their depth;
 * a span whose parent never arrived is shown as a root, marked `orphan`. */
export function waterfall(trace) {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const children = new Map();
  const roots = [];
  for (const span of trace.spans) {
    const parent = parentOf(span);
    if (parent && ids.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(span);
    } else {
      roots.push({ span, orphan: Boolean(parent) });
    }
  }
  const byStart = (a, b) => a.startTime - b.startTime || a.spanID.localeCompare(b.spanID);
  roots.sort((a, b) => byStart(a.span, b.span));
  const rows = [];
  const visit = (span, depth, orphan) => {
    const kids = (children.get(span.spanID) || []).sort(byStart);
    rows.push({ span, depth, orphan, children: kids.length });
    for (const kid of kids) visit(kid, depth + 1, false);
  };
  for (const root of roots) visit(root.span, 0, root.orphan);
  return rows;
}

/** A trace's start, end and duration (microseconds), its root, services and counts. */
export function summary(trace) {
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const rows = waterfall(trace);
  const root = rows.length ? rows[0] : null;
  const perService = new Map();
  for (const span of trace.spans) {
    const name = serviceOf(trace, span);
    perService.set(name, (perService.get(name) || 0) + 1);
  }
  return {
    traceID: trace.traceID,
    start,
    duration: end - start,
    root: root ? { service: serviceOf(trace, root.span), operation: root.span.operationName } : null,
    rootIsOrphan: root ? root.orphan : false,
    services: servicesOf(trace).map((name) => ({ name, spans: perService.get(name) })),
    spans: trace.spans.length,
    errors: trace.spans.filter(isError).length,
  };
}

/** A duration in microseconds, readable: 850 µs, 12.3 ms, 1.52 s, 2 min 5 s. */
export function formatDuration(micros) {
  if (micros < 1000) return `${Math.round(micros)} µs`;
  if (micros < 1e6) return `${Number((micros / 1000).toPrecision(3))} ms`;
  if (micros < 60e6) return `${Number((micros / 1e6).toPrecision(3))} s`;
  const seconds = Math.round(micros / 1e6);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** A start time (microseconds since the epoch) in the browser's time zone, to the millisecond. */
export function formatStart(micros) {
  const date = new Date(micros / 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.` +
    pad(date.getMilliseconds(), 3)
  );
}

/** The /api/traces query for a search, `now` in microseconds: Jaeger's search takes a time
 * window (start, end), not a lookback. */
export function searchQuery(search, now) {
  const params = new URLSearchParams({ service: search.service });
  if (search.operation) params.set("operation", search.operation);
  if (search.tags && Object.keys(search.tags).length) params.set("tags", JSON.stringify(search.tags));
  params.set("start", String(Math.floor(now - lookbackMicros(search.lookback))));
  params.set("end", String(Math.floor(now)));
  params.set("limit", String(search.limit));
  return params;
}
