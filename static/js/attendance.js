// The student's pages. The confirm page: before the form goes, and only as the session asks,
// scan the student's card (the phone's rear camera, QR codes decoded here by the vendored
// jsQR: no picture ever leaves the phone, only the code), then read the phone's position
// with its accuracy. Whatever fails (no permission, no camera, a dark room) says so and
// offers Try again; "Can't scan?" confirms without the card, still with the position where
// one is needed. The "not open yet" page: its button works from the opening time. What they
// say comes from the page (#attendance-texts), in the page's language.
(function () {
  "use strict";
  var texts = document.getElementById("attendance-texts");
  var TEXTS = texts ? JSON.parse(texts.textContent) : {};
  // "Opens at 16:55": the button works from then, counted by the server's clock (the phone's may be off).
  var waitForm = document.getElementById("wait-form");
  if (waitForm) {
    var openButton = document.getElementById("open-button");
    var waitStatus = document.getElementById("wait-status");
    var opensAt = Date.now() + Number(waitForm.dataset.secondsLeft) * 1000;
    var tick = function () {
      var left = Math.ceil((opensAt - Date.now()) / 1000);
      if (left <= 0) {
        openButton.disabled = false;
        waitStatus.textContent = TEXTS.open_now;
        return;
      }
      openButton.disabled = true;
      var minutes = Math.ceil(left / 60);
      var words = left <= 60 ? TEXTS.opens_soon : minutes <= 120 ? TEXTS.opens_in.replace("{minutes}", minutes) : "";
      if (waitStatus.textContent !== words) { waitStatus.textContent = words; }  // a live region: change it only when it says something new
      window.setTimeout(tick, 1000);
    };
    tick();
  }
  var form = document.getElementById("attendance-form");
  if (!form) { return; }
  var needsLocation = form.dataset.needsLocation === "true";
  var needsScan = form.dataset.needsScan === "true";
  if (!needsLocation && !needsScan) { return; }
  var button = document.getElementById("confirm-button");
  var problem = document.getElementById("confirm-problem");
  var label = button.textContent;
  var busy = false;

  var SCAN_SECONDS = 20;
  var scanner = document.getElementById("scanner");
  var video = document.getElementById("scan-video");
  var scanStatus = document.getElementById("scan-status");
  var canvas = document.createElement("canvas");
  var stream = null;

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    if (scanner) { scanner.classList.add("d-none"); }
  }

  function fail(message) {
    stopCamera();
    problem.textContent = message;
    problem.classList.remove("d-none");
    button.disabled = false;
    button.textContent = TEXTS.try_again;
    busy = false;
  }

  function working(text) {
    button.disabled = true;
    button.textContent = text;
  }

  // A first fix indoors is often a rough network position; GPS and Wi-Fi improve it within
  // seconds. Post at once when the fix is as good as the room's radius, else keep watching
  // for up to ROUGH_WAIT_MS and post the best one seen (the server allows for its error).
  var ROUGH_WAIT_MS = 6000;
  var goodEnough = Number(form.dataset.radius) || 30;

  function locate(then) {
    if (!needsLocation) { then(); return; }
    if (!("geolocation" in navigator)) {
      fail(TEXTS.no_geolocation);
      return;
    }
    working(TEXTS.finding_location);
    var best = null, finished = false, watch = null, timer = null;
    function finish() {
      if (finished) { return; }
      finished = true;
      if (watch !== null) { navigator.geolocation.clearWatch(watch); }
      window.clearTimeout(timer);
      form.elements.latitude.value = best.coords.latitude;
      form.elements.longitude.value = best.coords.longitude;
      form.elements.accuracy.value = best.coords.accuracy;
      then();
    }
    watch = navigator.geolocation.watchPosition(function (position) {
      if (finished) { return; }
      if (!best || position.coords.accuracy < best.coords.accuracy) { best = position; }
      if (best.coords.accuracy <= goodEnough) { finish(); return; }
      working(TEXTS.rough_position.replace("{accuracy}", Math.round(best.coords.accuracy)));
      if (timer === null) { timer = window.setTimeout(finish, ROUGH_WAIT_MS); }
    }, function (error) {
      if (finished) { return; }
      if (best) { finish(); return; }  // a later fix failed: the one we have will do
      finished = true;
      navigator.geolocation.clearWatch(watch);
      if (error.code === error.PERMISSION_DENIED) {
        fail(TEXTS.location_blocked);
      } else {
        fail(TEXTS.location_not_found);
      }
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  }

  // The average brightness of a frame (0-255), from a sample of its pixels.
  function brightness(pixels) {
    var total = 0, count = 0;
    for (var i = 0; i < pixels.length; i += 4 * 97) { total += pixels[i] + pixels[i + 1] + pixels[i + 2]; count += 3; }
    return count ? total / count : 0;
  }

  function look(deadline, then) {
    if (!stream) { return; }
    var width = video.videoWidth, height = video.videoHeight, light = null;
    if (width && height) {
      var scale = Math.min(1, 800 / width);  // a phone camera's full frame is slow to decode and no easier to read
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var frame = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        form.elements.id_scan.value = code.data;
        stopCamera();
        then();
        return;
      }
      light = brightness(frame.data);
    }
    if (Date.now() > deadline) {
      fail(light !== null && light < 40 ? TEXTS.too_dark : TEXTS.no_card_read);
      return;
    }
    window.setTimeout(function () { look(deadline, then); }, 120);
  }

  function scan(then) {
    if (!needsScan) { then(); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.jsQR) {
      fail(TEXTS.no_camera_api);
      return;
    }
    working(TEXTS.starting_camera);
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (camera) {
        stream = camera;
        video.srcObject = camera;
        scanner.classList.remove("d-none");
        scanStatus.textContent = TEXTS.hold_card;
        working(TEXTS.looking_for_card);
        return video.play();
      })
      .then(function () { look(Date.now() + SCAN_SECONDS * 1000, then); })
      .catch(function (error) {
        if (error && (error.name === "NotAllowedError" || error.name === "SecurityError")) {
          fail(TEXTS.camera_blocked);
        } else if (error && (error.name === "NotFoundError" || error.name === "OverconstrainedError")) {
          fail(TEXTS.no_camera);
        } else {
          fail(TEXTS.camera_failed);
        }
      });
  }

  function send(withoutCard) {
    if (withoutCard) {  // form.submit() leaves out the button that was pressed
      var flag = document.createElement("input");
      flag.type = "hidden";
      flag.name = "without_card";
      flag.value = "1";
      form.appendChild(flag);
    }
    button.textContent = label;
    form.dataset.ready = "true";
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.ready === "true") { return; }
    var withoutCard = Boolean(event.submitter && event.submitter.name === "without_card");
    if (withoutCard && !needsLocation) { return; }  // the button itself sends without_card=1
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    problem.classList.add("d-none");
    if (withoutCard) {
      locate(function () { send(true); });
    } else {
      scan(function () { locate(function () { send(false); }); });
    }
  });
})();
