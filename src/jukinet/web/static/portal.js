// The resident portal's own check of every entry's inclusion proof, in the browser.
// For each row: SHA-256(0x00 || entry bytes) must be the leaf hash, the entry bytes must name
// the row's position and recipient, and the audit path must lead from the leaf to the root of
// the tree head the server checked (RFC 9162 §2.1.3.2). WebCrypto only; no libraries.
"use strict";

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64ToBytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

async function sha256(prefix, ...parts) {
  const length = 1 + parts.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(length);
  data[0] = prefix;
  let at = 1;
  for (const part of parts) { data.set(part, at); at += part.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

async function rootFromProof(index, size, leaf, proof) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(1, p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await sha256(1, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

async function checkRow(row) {
  const data = base64ToBytes(row.dataset.leaf);
  const entry = JSON.parse(new TextDecoder().decode(data));
  const index = Number(row.dataset.index);
  if (entry[1] !== index || entry[7] !== row.dataset.actor) return false;
  const leaf = await sha256(0, data);
  if (bytesToHex(leaf) !== row.dataset.leafHash) return false;
  const proof = row.dataset.proof ? row.dataset.proof.split(",").map(hexToBytes) : [];
  const root = await rootFromProof(index, Number(row.dataset.size), leaf, proof);
  return root !== null && bytesToHex(root) === row.dataset.root;
}

async function checkAll() {
  const rows = document.querySelectorAll("tr.entry");
  let good = 0;
  for (const row of rows) {
    const mark = row.querySelector(".browser");
    let ok = false;
    try { ok = await checkRow(row); } catch (error) { ok = false; }
    mark.textContent = ok ? mark.dataset.ok : mark.dataset.bad;
    mark.classList.add(ok ? "ok" : "bad");
    row.dataset.browserVerified = ok ? "yes" : "no";
    if (ok) good += 1;
  }
  document.body.dataset.browserChecked = String(good) + "/" + String(rows.length);
}

document.addEventListener("DOMContentLoaded", checkAll);
