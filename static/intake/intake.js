// The cost of sending a report or trying a receipt code (intake/challenge.py): find a number
// such that SHA-256("<token>:<number>") starts with enough zero bits. Without JavaScript, or
// where the browser lacks Web Crypto, the question next to the button is answered instead.
"use strict";

(function () {
  function leadingZeroBits(bytes) {
    let count = 0;
    for (const byte of bytes) {
      if (byte === 0) {
        count += 8;
        continue;
      }
      return count + Math.clz32(byte) - 24;
    }
    return count;
  }

  async function solve(token, bits) {
    const encoder = new TextEncoder();
    for (let counter = 0; ; counter++) {
      const digest = await crypto.subtle.digest("SHA-256", encoder.encode(token + ":" + counter));
      if (leadingZeroBits(new Uint8Array(digest)) >= bits) {
        return String(counter);
      }
    }
  }

  function setUp(form) {
    const box = form.querySelector(".intake-challenge");
    if (!box || !window.crypto || !crypto.subtle || !window.TextEncoder) {
      return; // the question stays
    }
    const token = form.querySelector("input[name=challenge]").value;
    const bits = Number(box.dataset.powBits);
    const status = form.querySelector(".intake-working");
    if (!box.querySelector(".is-invalid")) {
      box.hidden = true;
    }
    let solution = null;
    // Start at once, while the person writes: usually done before they press the button.
    const work = solve(token, bits).then(function (found) {
      solution = found;
      form.querySelector("input[name=counter]").value = found;
    });
    form.addEventListener("submit", function (event) {
      if (solution !== null) {
        return;
      }
      event.preventDefault();
      status.textContent = status.dataset.waiting || "…";
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
      work.then(function () {
        form.submit();
      });
    });
  }

  document.querySelectorAll("form.intake-form").forEach(setUp);
})();
