// What the console and the report page share: building elements with the DOM (never from HTML
// strings, so nothing a reporter typed can become markup), the static words, and the session
// (sign-in form, sign-out, idle expiry, language switch).
import * as api from "./api.js";
import { t, setLang, currentLang } from "./i18n.js";

const IDLE_MS = 30 * 60 * 1000;

export const $ = (sel) => document.querySelector(sel);

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** An API refusal in words: each field at fault with its message, else the message. */
export function refusalText(err) {
  const fields = Object.entries(err.fields || {}).map(([f, v]) => `${f}: ${v.message || v.code}`);
  return `${t("refused")}: ${fields.length ? fields.join("; ") : err.message}`;
}

/**
 * Wires the page's `#login` form, `#logout` and `#lang` buttons. `enter({ user, grants })` runs
 * after a sign-in (it may return a message to refuse the page to this user); `leave()` clears
 * the page after a sign-out, a 401 or 30 idle minutes; `relabel()` after a language switch.
 */
export function session({ titleKey, enter, leave, relabel }) {
  let idle = null;
  const translate = () => {
    document.querySelectorAll("[data-t]").forEach((n) => { n.textContent = t(n.dataset.t); });
    document.title = t(titleKey);
    $("#lang").textContent = currentLang() === "zh-CN" ? "English" : "中文";
  };
  const signOut = async (message) => {
    clearTimeout(idle);
    try { await api.signOut(); } catch (_) { /* the session is gone either way */ }
    leave();
    $("#logout").hidden = true;
    $("#who").textContent = "";
    $("#login").hidden = false;
    $("#login-error").textContent = message || "";
  };
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => signOut(t("loggedOutIdle")), IDLE_MS);
  };
  $("#login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    $("#login-error").textContent = "";
    try {
      const answer = await api.signIn(form.username.value.trim(), form.password.value);
      form.password.value = "";
      const grants = (await api.call("GET", "/api/v1/me")).roles;
      $("#login").hidden = true;
      $("#logout").hidden = false;
      $("#who").textContent = answer.user.display_name;
      touch();
      const refused = await enter({ user: answer.user, grants });
      if (refused) await signOut(refused);
    } catch (e) {
      $("#login-error").textContent = e.message;
    }
  });
  $("#logout").addEventListener("click", () => signOut());
  $("#lang").addEventListener("click", () => {
    setLang(currentLang() === "zh-CN" ? "en" : "zh-CN");
    translate();
    if (api.signedIn()) relabel();
  });
  api.whenSignedOut(() => signOut());
  ["click", "keydown"].forEach((k) => document.addEventListener(k, () => { if (api.signedIn()) touch(); }));
  translate();
}
