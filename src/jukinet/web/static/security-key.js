// Registering a FIDO2 security key as an operator card (card administrator): ask the key to
// create a credential for the server's options, then post the answer with the page's own form.
// The base64url handling is card.js's (the sign-in page).
"use strict";
(function () {
  const form = document.getElementById("key-form");
  if (!form) { return; }
  const status = document.getElementById("key-status");
  const options = JSON.parse(document.getElementById("key-options").textContent);

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

  async function register() {
    status.textContent = status.dataset.waiting;
    const publicKey = Object.assign({}, options, {
      challenge: fromB64(options.challenge),
      user: Object.assign({}, options.user, { id: fromB64(options.user.id) }),
      excludeCredentials: (options.excludeCredentials || []).map(
        (c) => Object.assign({}, c, { id: fromB64(c.id) })),
    });
    const made = await navigator.credentials.create({ publicKey });
    const credential = {
      id: made.id, rawId: toB64(made.rawId), type: made.type,
      response: {
        clientDataJSON: toB64(made.response.clientDataJSON),
        attestationObject: toB64(made.response.attestationObject),
        transports: made.response.getTransports ? made.response.getTransports() : [],
      },
      clientExtensionResults: made.getClientExtensionResults(),
    };
    form.elements.namedItem("credential").value = JSON.stringify(credential);
    form.submit();
  }

  document.getElementById("key-start").addEventListener("click", () => {
    register().catch(() => { status.textContent = status.dataset.failed; });
  });
})();
