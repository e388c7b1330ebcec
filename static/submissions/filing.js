/*
 * Filing pages: upload progress, confirmations, and keeping typed text safe.
 * Loaded as a file (no inline script); every page works without it.
 */
(function () {
  "use strict";

  // Words come translated from the page (templates/submissions/_filing_script.html).
  var words = (document.getElementById("filing-messages") || { dataset: {} }).dataset;
  function say(key, values) {
    var text = words[key] || "";
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(values[name]);
    });
    return text;
  }

  // Uploads: send each file on its own request, with a progress bar per file and its own
  // description (never one description copied to every file).
  function uploadOne(form, file, list, description) {
    return new Promise(function (resolve) {
      var item = document.createElement("li");
      var label = document.createElement("span");
      var bar = document.createElement("progress");
      label.textContent = file.name + " ";
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", say("uploading", { name: file.name }));
      item.appendChild(label);
      item.appendChild(bar);
      list.appendChild(item);

      var data = new FormData(form);
      data.delete("files");
      data.append("files", file, file.name);
      data.delete("description");
      data.append("description", description || "");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) bar.value = Math.round((100 * event.loaded) / event.total);
      });
      xhr.addEventListener("load", function () {
        var message = document.createElement("div");
        message.className = "small";
        try {
          var results = JSON.parse(xhr.responseText).results;
          message.textContent = results.map(function (r) { return r.message; }).join(" ");
          message.classList.add(xhr.status === 200 ? "text-success" : "text-danger");
        } catch (error) {
          message.textContent = say("uploadFailed", { status: xhr.status });
          message.classList.add("text-danger");
        }
        bar.value = 100;
        item.appendChild(message);
        resolve(xhr.status === 200);
      });
      xhr.addEventListener("error", function () {
        var message = document.createElement("div");
        message.className = "small text-danger";
        message.textContent = say("connectionBroke");
        item.appendChild(message);
        resolve(false);
      });
      xhr.send(data);
    });
  }

  // After uploads, the exhibit list (and the meter beside it) is read again from the page
  // itself, so that the new exhibits show without a reload.
  function refreshExhibits() {
    var current = document.querySelector("[data-exhibit-list]");
    if (!current || !window.fetch || !window.DOMParser) return Promise.reject(new Error("no list"));
    return fetch(window.location.pathname, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.querySelector("[data-exhibit-list]");
      if (!fresh) throw new Error("no list in the page");
      current.replaceWith(document.adoptNode(fresh));
      var meter = document.querySelector("[data-meter]");
      var freshMeter = page.querySelector("[data-meter]");
      if (meter && freshMeter) meter.replaceWith(document.adoptNode(freshMeter));
    });
  }

  // One description box per chosen file, labelled with its name; the single box of the
  // page (for one file, or without this script) is set aside while there are several.
  function describeEach(form, input) {
    var shared = form.querySelector("textarea[name=description]:not([data-file-description])");
    if (!shared) return;
    var boxes = form.querySelector("[data-file-descriptions]");
    if (!boxes) {
      boxes = document.createElement("div");
      boxes.setAttribute("data-file-descriptions", "");
      (shared.closest("#div_id_description") || shared.parentElement).after(boxes);
    }
    boxes.replaceChildren();
    var several = input.files.length > 1;
    shared.disabled = several;
    (shared.closest("#div_id_description") || shared.parentElement).hidden = several;
    if (!several) return;
    Array.prototype.forEach.call(input.files, function (file, index) {
      var wrap = document.createElement("div");
      wrap.className = "mb-3";
      var label = document.createElement("label");
      label.className = "form-label";
      label.htmlFor = "id_description_" + index;
      label.textContent = say("describeFile", { name: file.name });
      var box = document.createElement("textarea");
      box.className = "form-control";
      box.rows = 2;
      box.id = "id_description_" + index;
      box.setAttribute("data-file-description", String(index));
      wrap.appendChild(label);
      wrap.appendChild(box);
      boxes.appendChild(wrap);
    });
  }

  function descriptionOf(form, index) {
    var box = form.querySelector("[data-file-description='" + index + "']");
    if (box) return box.value;
    var shared = form.querySelector("textarea[name=description]:not([data-file-description])");
    return shared && !shared.disabled ? shared.value : "";
  }

  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    var chooser = form.querySelector("input[type=file]");
    if (chooser) chooser.addEventListener("change", function () { describeEach(form, chooser); });
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input || !input.files.length || !window.FormData) return;
      event.preventDefault();
      var area = form.querySelector("[data-upload-progress]");
      var list = document.createElement("ul");
      list.className = "list-unstyled";
      area.replaceChildren(list);
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var files = Array.prototype.slice.call(input.files);
      var descriptions = files.map(function (file, index) { return descriptionOf(form, index); });
      files.reduce(function (previous, file, index) {
        return previous.then(function () {
          return uploadOne(form, file, list, descriptions[index]);
        });
      }, Promise.resolve()).then(function () {
        button.disabled = false;
        input.value = "";
        describeEach(form, input);
        var shared = form.querySelector("textarea[name=description]");
        if (shared) shared.value = "";
        return refreshExhibits().catch(function () {
          // The list could not be fetched: offer a plain reload instead.
          var done = document.createElement("a");
          done.href = window.location.pathname;
          done.className = "btn btn-outline-secondary btn-sm";
          done.textContent = say("showExhibits");
          area.appendChild(done);
        });
      });
    });
  });

  // Confirm destructive actions.
  // Delegated, so that it holds for forms in a refreshed exhibit list too.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // Typed text survives a lost session or a closed page: a copy stays in this tab's
  // sessionStorage until the portal confirms a save, and is offered back, never forced.
  var storageKey = "portal-draft:" + window.location.pathname;
  var saved = document.querySelector(".alert-success");
  if (saved) {
    Object.keys(sessionStorage).forEach(function (key) {
      if (key.indexOf("portal-draft:") === 0) sessionStorage.removeItem(key);
    });
  }
  document.querySelectorAll("form[data-preserve]").forEach(function (form) {
    var dirty = false;
    function fields() {
      return Array.prototype.filter.call(form.elements, function (el) {
        return el.name && el.type !== "file" && el.type !== "password" && el.type !== "hidden";
      });
    }
    function snapshot() {
      var values = {};
      fields().forEach(function (el) {
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.checked) (values[el.name] = values[el.name] || []).push(el.value);
        } else if (el.multiple) {
          values[el.name] = Array.prototype.map.call(el.selectedOptions, function (o) { return o.value; });
        } else {
          values[el.name] = el.value;
        }
      });
      sessionStorage.setItem(storageKey, JSON.stringify({ at: new Date().toISOString(), values: values }));
    }
    function restore(values) {
      fields().forEach(function (el) {
        if (!(el.name in values)) {
          if (el.type === "checkbox" || el.type === "radio") el.checked = false;
          return;
        }
        var value = values[el.name];
        if (el.type === "checkbox" || el.type === "radio") el.checked = value.indexOf(el.value) !== -1;
        else if (el.multiple) Array.prototype.forEach.call(el.options, function (o) { o.selected = value.indexOf(o.value) !== -1; });
        else el.value = value;
      });
    }
    var stored = sessionStorage.getItem(storageKey);
    if (stored && !saved && !document.getElementById("error-summary")) {
      var draft = JSON.parse(stored);
      var offer = document.createElement("div");
      offer.className = "alert alert-warning d-flex gap-2 align-items-center";
      offer.setAttribute("role", "status");
      var text = document.createElement("span");
      text.textContent = say("unsavedText", {
        time: new Date(draft.at).toLocaleString(document.documentElement.lang || undefined)
      });
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-warning";
      button.textContent = say("putBack");
      button.addEventListener("click", function () { restore(draft.values); offer.remove(); dirty = true; });
      offer.appendChild(text);
      offer.appendChild(button);
      form.prepend(offer);
    }
    form.addEventListener("input", function () { dirty = true; snapshot(); });
    form.addEventListener("change", function () { dirty = true; snapshot(); });
    form.addEventListener("submit", function () { dirty = false; });
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  });

  // Move focus to the error summary so that screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
