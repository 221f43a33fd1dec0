// Sends the signed deep-linking response back to the LMS at once (the button stays as a fallback).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("lti-return");
  if (form) { form.submit(); }
});
