// The confirm page: when the session has a location, read the phone's position once and
// send it with the confirmation. Without permission, say so and let the student try again.
(function () {
  "use strict";
  var form = document.getElementById("attendance-form");
  if (!form || form.dataset.needsLocation !== "true") { return; }
  var button = document.getElementById("confirm-button");
  var problem = document.getElementById("location-problem");
  var label = button.textContent;

  function fail(message) {
    problem.textContent = message;
    problem.classList.remove("d-none");
    button.disabled = false;
    button.textContent = "Try again";
  }

  form.addEventListener("submit", function (event) {
    if (form.dataset.located === "true") { return; }
    event.preventDefault();
    if (!("geolocation" in navigator)) {
      fail("This browser cannot share your location, which this session needs. Open the link in your phone's main browser.");
      return;
    }
    problem.classList.add("d-none");
    button.disabled = true;
    button.textContent = "Finding your location…";
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.latitude.value = position.coords.latitude;
      form.elements.longitude.value = position.coords.longitude;
      form.dataset.located = "true";
      button.textContent = label;
      form.submit();
    }, function (error) {
      if (error.code === error.PERMISSION_DENIED) {
        fail("Location access is blocked. Allow location for this site in your browser settings, then tap Try again.");
      } else {
        fail("Your location could not be found. Check that location services are on, then tap Try again.");
      }
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  });
})();
