// The API as the console uses it. The token lives in this module's memory only (never in
// storage or a cookie), so a reload signs out and no other site can make the browser act with it.

let token = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error;
    this.fields = body?.fields || {};
  }
}

export function whenSignedOut(f) { onSignedOut = f; }
export function signedIn() { return token !== null; }

export async function call(method, path, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return answer(await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
}

/** A multipart upload (a photo); the browser sets the boundary. */
export async function upload(path, form) {
  return answer(await fetch(path, { method: "POST", headers: { Authorization: `Bearer ${token}`, Accept: "application/json" }, body: form }));
}

async function answer(res) {
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { /* not ours (a proxy's page): judged by status */ }
  if (res.status === 401 && token) { token = null; onSignedOut(); }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export async function signIn(username, password) {
  const answer = await call("POST", "/api/v1/auth/login", { username, password });
  token = answer.token;
  return answer;
}

export async function signOut() {
  if (!token) return;
  try { await call("POST", "/api/v1/auth/logout"); } finally { token = null; }
}

/** A photo as an object URL (the request carries the token; an <img src> could not). */
export async function blobUrl(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new ApiError(res.status, null);
  return URL.createObjectURL(await res.blob());
}

/** Saves a file that needs the token (a plain link could not send it) under `name`. */
export async function download(path, name) {
  const a = document.createElement("a");
  a.href = await blobUrl(path);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/**
 * The live stream: server-sent events read through fetch (EventSource cannot send the token),
 * resumed with Last-Event-ID after a drop. Calls `onEvent(view)` per changed event and
 * `onStatus("live" | "reconnecting")`. Returns a function that stops it.
 */
export function stream(onEvent, onStatus) {
  let stopped = false;
  let lastId = null;
  const controller = new AbortController();
  (async () => {
    while (!stopped && token) {
      try {
        const headers = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
        if (lastId) headers["Last-Event-ID"] = lastId;
        const res = await fetch("/api/v1/events/stream", { headers, signal: controller.signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        onStatus("live");
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let id = null, kind = "message", data = "";
            for (const line of frame.split("\n")) {
              if (line.startsWith("id: ")) id = line.slice(4);
              else if (line.startsWith("event: ")) kind = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (id) lastId = id;
            if (kind === "event" && data) onEvent(JSON.parse(data));
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      if (stopped) return;
      onStatus("reconnecting");
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return () => { stopped = true; controller.abort(); };
}
