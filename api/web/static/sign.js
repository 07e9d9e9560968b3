// Signing on the officer's own PC: send the exact decision bytes to the local signing agent
// (landflow signer-agent or a CA plugin speaking the same calls), put the signature in the form, post it.
// The key stays on the token; the page never sees it.
(function () {
  "use strict";
  var form = document.getElementById("sign-form");
  var button = document.getElementById("sign-token");
  var status = document.getElementById("sign-status");
  if (!form || !button) { return; }
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = button.getAttribute("data-working") || "Đang chờ USB token ký…";
    fetch(form.getAttribute("data-agent") + "/sign", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({document: form.getAttribute("data-document")})
    }).then(function (resp) {
      if (!resp.ok) { throw new Error("agent " + resp.status); }
      return resp.json();
    }).then(function (answer) {
      if (answer.sha256 && answer.sha256 !== form.getAttribute("data-sha256")) { throw new Error("hash"); }
      document.getElementById("signature-value").value = answer.value;
      form.submit();
    }).catch(function () {
      button.disabled = false;
      status.textContent = "Không ký được: hãy kiểm tra USB token đã cắm và phần mềm ký số (landflow signer-agent) " +
        "đang chạy trên máy này, rồi thử lại.";
    });
  });
}());
