// WebAuthn in the browser, for the operator card: at sign-in ask the key for an assertion; to
// enrol a key (the card administrator registering a card, or a demo operator their own) ask it
// to create a credential. Either way the answer is posted with the page's own form.
"use strict";
(function () {
  const form = document.getElementById("card-form");
  if (!form) { return; }
  const status = document.getElementById("card-status");
  const options = JSON.parse(document.getElementById("card-options").textContent);
  const mode = form.elements.namedItem("mode").value;

  const fromB64 = (text) => {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  };
  const toB64 = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    bytes.forEach((b) => { raw += String.fromCharCode(b); });
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  async function askCard() {
    status.textContent = status.dataset.waiting;
    let credential;
    if (mode === "enrol") {
      const publicKey = Object.assign({}, options, {
        challenge: fromB64(options.challenge),
        user: Object.assign({}, options.user, { id: fromB64(options.user.id) }),
        excludeCredentials: (options.excludeCredentials || []).map(
          (c) => Object.assign({}, c, { id: fromB64(c.id) })),
      });
      const made = await navigator.credentials.create({ publicKey });
      credential = {
        id: made.id, rawId: toB64(made.rawId), type: made.type,
        response: {
          clientDataJSON: toB64(made.response.clientDataJSON),
          attestationObject: toB64(made.response.attestationObject),
          transports: made.response.getTransports ? made.response.getTransports() : [],
        },
        clientExtensionResults: made.getClientExtensionResults(),
      };
    } else {
      const publicKey = Object.assign({}, options, {
        challenge: fromB64(options.challenge),
        allowCredentials: (options.allowCredentials || []).map(
          (c) => Object.assign({}, c, { id: fromB64(c.id) })),
      });
      const got = await navigator.credentials.get({ publicKey });
      credential = {
        id: got.id, rawId: toB64(got.rawId), type: got.type,
        response: {
          clientDataJSON: toB64(got.response.clientDataJSON),
          authenticatorData: toB64(got.response.authenticatorData),
          signature: toB64(got.response.signature),
          userHandle: got.response.userHandle ? toB64(got.response.userHandle) : null,
        },
        clientExtensionResults: got.getClientExtensionResults(),
      };
    }
    form.elements.namedItem("credential").value = JSON.stringify(credential);
    form.submit();
  }

  document.getElementById("card-start").addEventListener("click", () => {
    askCard().catch(() => { status.textContent = status.dataset.failed; });
  });
  // Tells whoever drives the page (people see the button work) that the button now answers.
  form.dataset.ready = "true";
})();
