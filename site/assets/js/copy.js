// Progressive enhancement: a button beside each checksum copies it. The
// page is complete without it.
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) return;
  document.querySelectorAll("code.sum").forEach(function (code) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "copy";
    b.textContent = "Copy";
    b.setAttribute("aria-label", "Copy checksum " + code.textContent.slice(0, 12));
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent).then(function () { b.textContent = "Copied"; });
    });
    code.after(b);
  });
});
