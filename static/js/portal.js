// Small progressive enhancements; every page works without them. What they say comes from
// the page (#portal-texts), in the page's language.
(function () {
  "use strict";
  var texts = document.getElementById("portal-texts");
  var TEXTS = texts ? JSON.parse(texts.textContent) : {};

  // Progress bars: widths come from data attributes (the CSP forbids inline styles).
  function paint(bar, percent) {
    var inner = bar.querySelector(".progress-bar");
    inner.style.width = percent + "%";
    inner.textContent = percent + "%";
    bar.setAttribute("aria-valuenow", String(percent));
  }
  document.querySelectorAll(".progress").forEach(function (bar) {
    var inner = bar.querySelector(".progress-bar[data-width]");
    if (inner) { paint(bar, Number(inner.dataset.width)); }
  });

  // Session page: poll delivery progress until every email has an answer.
  var delivery = document.getElementById("delivery");
  if (delivery && delivery.dataset.finished !== "true") {
    var bar = document.getElementById("delivery-bar");
    var state = document.getElementById("delivery-state");
    var poll = function () {
      fetch(delivery.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          paint(bar, data.percent);
          var counts = data.counts;
          var values = { sent: counts.sent, failed: counts.failed, in_progress: counts.pending + counts.sending,
                         withdrawn: counts.withdrawn, total: data.total };
          Object.keys(values).forEach(function (key) {
            var el = delivery.querySelector('[data-count="' + key + '"]');
            if (el) { el.textContent = values[key]; }
          });
          if (data.generation_status === "failed") {
            state.textContent = data.generation_error || TEXTS.not_prepared;
          } else if (data.cancelled && data.finished) {
            state.textContent = TEXTS.cancelled;
          } else if (data.scheduled) {
            state.textContent = TEXTS.scheduled;
          } else if (data.finished) {
            state.textContent = TEXTS.done;
          } else if (data.generation_status === "waiting" || data.generation_status === "queued") {
            state.textContent = TEXTS.preparing;
          } else {
            state.textContent = TEXTS.sending;
          }
          if (data.finished) { refreshList(); } else { setTimeout(poll, data.scheduled ? 30000 : 1000); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    // Swap in the notifications list as the server now renders it (no full reload: the flash stays).
    var refreshList = function () {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("session-notifications");
          var current = document.getElementById("session-notifications");
          if (fresh && current) { current.replaceWith(fresh); }
        });
    };
    setTimeout(poll, 500);
  }

  // Attendance view: while the session is open, swap in each [data-live] part as the server now
  // renders it, except a part being edited (focused or changed), so nothing typed is lost.
  var liveRoot = document.querySelector("[data-refresh-seconds]");
  if (liveRoot) {
    var parts = document.querySelectorAll("[data-live]");
    parts.forEach(function (part) {
      part.addEventListener("input", function () { part.dataset.edited = "true"; });
      part.addEventListener("change", function () { part.dataset.edited = "true"; });
    });
    var refreshLive = function () {
      if (document.hidden) { setTimeout(refreshLive, 2000); return; }
      fetch(window.location.pathname, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-live]").forEach(function (part) {
            var replacement = fresh.getElementById(part.id);
            if (replacement && part.dataset.edited !== "true" && !part.contains(document.activeElement)) {
              part.innerHTML = replacement.innerHTML;
            }
          });
          if (fresh.querySelector("[data-refresh-seconds]")) {
            setTimeout(refreshLive, Number(liveRoot.dataset.refreshSeconds) * 1000);
          }
        })
        .catch(function () { setTimeout(refreshLive, 15000); });
    };
    setTimeout(refreshLive, Number(liveRoot.dataset.refreshSeconds) * 1000);
  }

  // Attendance view: the one-page marking form says how many rows will change, and marks them.
  var grid = document.getElementById("grid");
  if (grid) {
    var register = document.getElementById("register");
    register.addEventListener("change", function (event) {
      var target = event.target;
      if (!target.name || target.name.indexOf("status-") !== 0) { return; }
      target.closest("tr").classList.toggle("changed", target.value !== "");
      var pending = register.querySelectorAll('select[name^="status-"]');
      var count = 0;
      pending.forEach(function (select) { if (select.value !== "") { count += 1; } });
      document.getElementById("grid-pending").textContent = count
        ? count + (count === 1 ? " student" : " students") + " to change: not saved yet" : "";
    });
  }

  // Notifications page: "select all failed or bounced on this page".
  var selectAll = document.getElementById("select-all-failed");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll(".retry-box").forEach(function (box) { box.checked = selectAll.checked; });
    });
  }

  // Offer only the streams of the chosen program (`allWhenNone`: every stream while no program is chosen,
  // as in a filter). Returns the filter, to run again when something else changes the program.
  function streamFilter(form, allWhenNone) {
    var program = form.querySelector("#program_id");
    var stream = form.querySelector("#stream_id");
    var filter = function () {
      Array.prototype.forEach.call(stream.options, function (option) {
        var owner = option.dataset.program;
        var hide = owner !== undefined && owner !== program.value && !(allWhenNone && program.value === "");
        option.hidden = hide;
        option.disabled = hide;
        if (hide && option.selected) { stream.value = ""; }
      });
    };
    program.addEventListener("change", filter);
    filter();
    return filter;
  }
  document.querySelectorAll("form[data-stream-filter]").forEach(function (form) {
    streamFilter(form, form.dataset.streamFilter === "all-when-none");
  });

  // New session form: streams of the chosen program; the course's program first; who it emails.
  var sessionForm = document.querySelector(".session-form");
  if (sessionForm) {
    var program = sessionForm.querySelector("#program_id");
    var stream = sessionForm.querySelector("#stream_id");
    var filterStreams = streamFilter(sessionForm, false);

    // Choosing a course chooses its program, listed first; another program needs the "shared course" box.
    var course = sessionForm.querySelector("#course_id");
    var otherProgram = document.getElementById("other-program");
    var courseProgram = function () {
      var chosen = course.options[course.selectedIndex];
      return chosen ? chosen.dataset.program : undefined;
    };
    var showMismatch = function () {
      var own = courseProgram();
      otherProgram.classList.toggle("d-none", !own || !program.value || own === program.value);
    };
    course.addEventListener("change", function () {
      var own = courseProgram();
      if (!own) { showMismatch(); return; }
      var first = program.querySelector('option[value="' + own + '"]');
      if (first) { program.insertBefore(first, program.options[1] || null); }
      program.value = own;
      filterStreams();
      showMismatch();
      refreshAudience();
    });
    program.addEventListener("change", showMismatch);
    showMismatch();

    // Who the session emails and (while its sending time can be chosen) when its last email should leave.
    var audienceBox = document.getElementById("audience");
    var timingBox = document.getElementById("timing");
    var fields = ["program_id", "stream_id", "session_date", "start_time", "notify_minutes_before"];
    var refreshAudience = function () {
      if (!program.value) { audienceBox.textContent = TEXTS.choose_program; return; }
      var url = new URL(sessionForm.dataset.audienceUrl, window.location.href);  // the edit form's names its session
      fields.forEach(function (name) {
        var input = sessionForm.elements[name];
        if (input) { url.searchParams.set(name, input.value); }
      });
      var notifyAt = sessionForm.querySelector('input[name="notify_at"]:checked');
      if (notifyAt) { url.searchParams.set("notify_at", notifyAt.value); }
      fetch(url.toString(),
            { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          if (data.audience) {
            var strong = document.createElement("strong");
            strong.id = "audience-text";
            strong.textContent = data.audience;
            audienceBox.replaceChildren(audienceBox.dataset.intro + " ", strong, ".");
          }
          if (timingBox) {
            timingBox.textContent = data.timing ? data.timing.text : "";
            timingBox.classList.toggle("d-none", !data.timing);
            timingBox.classList.toggle("alert-warning", Boolean(data.timing && data.timing.late));
            timingBox.classList.toggle("alert-light", !(data.timing && data.timing.late));
          }
        })
        .catch(function () { /* the preview stays as it was; saving still works */ });
    };
    program.addEventListener("change", refreshAudience);
    stream.addEventListener("change", refreshAudience);
    if (timingBox) {
      var typing;
      var afterTyping = function () { clearTimeout(typing); typing = setTimeout(refreshAudience, 300); };
      ["session_date", "start_time", "notify_minutes_before"].forEach(function (name) {
        var input = sessionForm.elements[name];
        if (input) { input.addEventListener("input", afterTyping); }
      });
      sessionForm.querySelectorAll('input[name="notify_at"]').forEach(function (radio) {
        radio.addEventListener("change", refreshAudience);
      });
    }

    // The minutes matter only when the emails go out before the start.
    var minutes = sessionForm.querySelector("#notify_minutes_before");
    if (minutes) {
      var minutesBox = document.getElementById("notify-minutes");
      var showMinutes = function () {
        var before = sessionForm.querySelector('input[name="notify_at"]:checked');
        minutesBox.classList.toggle("d-none", !before || before.value !== "before");
      };
      sessionForm.querySelectorAll('input[name="notify_at"]').forEach(function (radio) {
        radio.addEventListener("change", showMinutes);
      });
      showMinutes();
    }

    // "Use my current location": fill latitude and longitude from the browser.
    var locate = document.getElementById("use-my-location");
    var message = document.getElementById("location-message");
    locate.addEventListener("click", function () {
      if (!("geolocation" in navigator)) {
        message.textContent = TEXTS.no_geolocation;
        message.classList.remove("d-none");
        return;
      }
      locate.disabled = true;
      locate.textContent = TEXTS.finding_location;
      navigator.geolocation.getCurrentPosition(function (position) {
        var accuracy = Math.round(position.coords.accuracy);
        sessionForm.querySelector("#latitude").value = position.coords.latitude.toFixed(6);
        sessionForm.querySelector("#longitude").value = position.coords.longitude.toFixed(6);
        // A rough fix puts the circle in the wrong place: say how rough, so it can be redone or typed.
        var radius = Number(sessionForm.querySelector("#radius_m").value) || 30;
        message.textContent = TEXTS.found_within.replace("{accuracy}", accuracy) + (accuracy > radius
          ? " " + TEXTS.rougher_than_radius : "");
        message.classList.toggle("text-danger", accuracy > radius);
        message.classList.remove("d-none");
        locate.disabled = false;
        locate.textContent = TEXTS.use_my_location;
      }, function () {
        message.textContent = TEXTS.location_unreadable;
        message.classList.add("text-danger");
        message.classList.remove("d-none");
        locate.disabled = false;
        locate.textContent = TEXTS.use_my_location;
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
})();
