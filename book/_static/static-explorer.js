// Explorers without a kernel (oversmoothing.plotting.static_explorer): each control picks one of the
// pre-rendered images of the explorer; the image, its alt text and the label follow. No network, no kernel.
(function () {
  function wire(root) {
    var data = JSON.parse(root.querySelector("script.static-explorer-frames").textContent);
    var inputs = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
    var image = root.querySelector("img.static-explorer-image");
    var label = root.querySelector("output.static-explorer-label");
    function update() {
      var frame = data.frames[inputs.map(function (input) { return input.value; }).join(",")];
      image.src = frame.src;
      image.alt = frame.label;
      label.textContent = frame.label;
      inputs.forEach(function (input) {
        if (input.type !== "range") return;
        var text = data.values[input.dataset.control][Number(input.value)];
        input.setAttribute("aria-valuetext", text);
        input.parentElement.querySelector(".static-explorer-value").textContent = text;
      });
    }
    inputs.forEach(function (input) {
      input.addEventListener("input", update);
      input.addEventListener("change", update);
    });
  }
  function wireAll() {
    document.querySelectorAll("[data-static-explorer]").forEach(wire);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireAll);
  else wireAll();
})();
