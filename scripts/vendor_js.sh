#!/usr/bin/env bash
# Vendor the JavaScript the built book needs, so that its pages render math and widgets offline.
#
#   bash scripts/vendor_js.sh book/vendor
#
# Fetches four pinned packages from the npm registry with `npm pack` (checked against the
# sha512 integrity recorded below) and copies only the files the pages load into the target folder:
#
#   <target>/mathjax/tex-mml-chtml.js             MathJax 3 (TeX + MathML input, CommonHTML output)
#   <target>/mathjax/output/chtml/fonts/woff-v2/  its web fonts (found relative to tex-mml-chtml.js)
#   <target>/mathjax/input/tex/extensions/        TeX packages that MathJax autoloads (\require, physics...)
#   <target>/html-manager/embed-amd.js            the ipywidgets 8 HTML manager (renders saved widget state)
#   <target>/html-manager/*.woff2 ...             Font Awesome fonts that embed-amd.js references
#   <target>/html-manager/offline.js              written here: keeps embed-amd.js off CDNs (see below)
#   <target>/require.js                           RequireJS, which embed-amd.js needs
#   <target>/reveal.js/dist/, plugin/notes/       reveal.js 4 for the lecture decks (`make slides`): its script,
#                                                 CSS, the white theme with its Source Sans Pro woff fonts, and
#                                                 the speaker-notes plugin (oversmoothing.book.slides copies this
#                                                 folder and mathjax/ next to the decks)
#
# The target folder is listed in Sphinx's html_static_path (see _config.yml), so it ends up in
# _build/html/_static/. It must not be called `_static` itself: Jupyter Book would inject every
# .js/.css it finds there into every page.
#
# Idempotent: the target folder is rebuilt from scratch each time (in a temporary folder first, then
# moved into place), so an interrupted run never leaves a half-filled folder behind.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 TARGET_DIR   (e.g. book/vendor)" >&2
    exit 2
fi
target=$1

command -v npm >/dev/null 2>&1 || {
    echo "vendor_js.sh: npm is required (apt-get install -y npm, or Node.js from nodejs.org)" >&2
    exit 1
}

# name@version  sha512 integrity as published on the npm registry (`npm view NAME@VERSION dist.integrity`)
packages=(
    "mathjax@3.2.2 sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
    "@jupyter-widgets/html-manager@1.0.6 sha512-+Mn+Ra8wyIHrYaUpfmf9A3dsLkt/NuwzPQN8sthdxBD35VV5cOJbpmgMhNR27n/rmP3mKyEe0PWCJrtZrXTXDQ=="
    "requirejs@2.3.4 sha512-qPD5gRrj6kGQ0ZySAJgqbArkaDqPMbQIT0zSZDkIv1mfA17w/tR2Faq5l2qqRf2CdQx6FWln9nUrgd2UDzb19A=="
    "reveal.js@4.6.1 sha512-1CW0auaXNPmwmvQ7TwpszwVxMi2Xr5cTS3J3EBC/HHgbPF32Dn7aiu/LKWDOGjMbaDwKQiGmfqcoGQ74HUHCMw=="
)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vendor_js.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Fetch and unpack each package into $tmp/src/<name>/ (npm pack writes <name>-<version>.tgz).
mkdir -p "$tmp/tgz" "$tmp/src"
for entry in "${packages[@]}"; do
    spec=${entry%% *}
    want=${entry#* }
    name=${spec%@*}
    echo "vendor_js.sh: npm pack $spec"
    # --ignore-scripts: nothing is run; --json: the file name npm wrote, whatever the scope.
    json=$(cd "$tmp/tgz" && npm pack --ignore-scripts --loglevel=error --json "$spec")
    file=$(printf '%s' "$json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);process.stdout.write(j[0].filename)})')
    file=${file//\//-}   # npm < 9 reports "@scope/name-1.0.0.tgz" but writes "scope-name-1.0.0.tgz"
    file=${file#@}
    [[ -f "$tmp/tgz/$file" ]] || { echo "vendor_js.sh: npm pack $spec did not produce $file" >&2; exit 1; }
    got="sha512-$(openssl dgst -sha512 -binary "$tmp/tgz/$file" | base64 | tr -d '\n')"
    if [[ "$got" != "$want" ]]; then
        echo "vendor_js.sh: integrity mismatch for $spec" >&2
        echo "  expected $want" >&2
        echo "  got      $got" >&2
        exit 1
    fi
    mkdir -p "$tmp/src/$name"
    tar -xzf "$tmp/tgz/$file" -C "$tmp/src/$name" --strip-components=1
done

out="$tmp/out"
mkdir -p "$out"

# --- MathJax: keep the es5/ layout below tex-mml-chtml.js, MathJax finds its fonts and
# extensions relative to the script's own URL ([mathjax]/output/..., [mathjax]/input/...).
mj="$tmp/src/mathjax/es5"
mkdir -p "$out/mathjax/output/chtml/fonts" "$out/mathjax/input/tex"
cp "$mj/tex-mml-chtml.js" "$out/mathjax/"
cp -r "$mj/output/chtml/fonts/woff-v2" "$out/mathjax/output/chtml/fonts/"
cp -r "$mj/input/tex/extensions" "$out/mathjax/input/tex/"
cp "$tmp/src/mathjax/LICENSE" "$out/mathjax/LICENSE"

# --- ipywidgets HTML manager. embed-amd.js bundles @jupyter-widgets/base, /controls and /output,
# so the standard ipywidgets 8 controls need no further module (the CDN named by the
# data-jupyter-widgets-cdn attribute is only asked for third-party widget packages). Besides the
# bundle it references only the Font Awesome fonts (hashed names, fetched by CSS when an icon is
# shown); the lazily loaded *.embed.js chunks in the package belong to embed.js, not embed-amd.js.
hm="$tmp/src/@jupyter-widgets/html-manager/dist"
mkdir -p "$out/html-manager"
cp "$hm/embed-amd.js" "$out/html-manager/"
for f in "$hm"/*.woff2 "$hm"/*.woff; do cp "$f" "$out/html-manager/"; done
cp "$hm/embed.js.LICENSE.txt" "$out/html-manager/LICENSE.txt"

# A small companion script, loaded just before embed-amd.js (nb_ipywidgets_js in _config.yml).
cat > "$out/html-manager/offline.js" <<'EOF'
/* Written by scripts/vendor_js.sh. Loaded just before embed-amd.js on pages that embed widget state.
 * Keeps the ipywidgets HTML manager on this site, from pages at any depth:
 * 1. embed-amd.js looks for its Font Awesome fonts under <page folder>/@jupyter-widgets/html-manager/dist/
 *    (a path derived from its RequireJS module names): point it at this folder, where they are vendored.
 * 2. Widget packages that embed-amd.js does not bundle would be fetched from the CDN named by the
 *    data-jupyter-widgets-cdn attribute of any script tag (default https://cdn.jsdelivr.net/npm/): name this
 *    folder instead, so a third-party widget shows up as a missing local file (<here><pkg>@<version>/dist/),
 *    never as a request to the internet. The standard controls (@jupyter-widgets/base, controls, output) are
 *    bundled in embed-amd.js and need nothing.
 * 3. embed-amd.js typesets widget descriptions with the MathJax 2 API (MathJax.Hub.Queue), the book loads
 *    MathJax 3: provide that one call on top of MathJax 3's typesetPromise.
 */
(function () {
  "use strict";
  var me = document.currentScript;
  var here = new URL("./", me.src).href;
  window.__jupyter_widgets_assets_path__ = here;
  // The other bundles in embed-amd.js take that folder from their RequireJS module URL: map those names
  // here (RequireJS reads a global `require` object as its configuration when it loads, just after this).
  if (window.require === undefined && window.requirejs === undefined) {
    window.require = {
      paths: {
        "@jupyter-widgets/html-manager/dist/libembed-amd": here + "libembed-amd",
        "@jupyter-widgets/base": here + "base",
        "@jupyter-widgets/controls": here + "controls"
      }
    };
  }
  me.setAttribute("data-jupyter-widgets-cdn", here);

  var pending = [];
  function typeset(el) {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
      // Jupyter writes widget math as $...$ / $$...$$, the book's MathJax only knows \(...\) / \[...\].
      if (el.childElementCount === 0 && el.textContent.indexOf("$") !== -1) {
        el.textContent = el.textContent
          .replace(/\$\$([^$]+)\$\$/g, "\\[$1\\]")
          .replace(/(^|[^\\])\$([^$]+)\$/g, "$1\\($2\\)");
      }
      // Chain onto startup.promise (MathJax 3.2's typesetPromise does not), so that whoever waits for
      // MathJax.startup.promise also waits for the widgets' math.
      mj.startup.promise = mj.startup.promise
        .then(function () { return mj.typesetPromise([el]); })
        .catch(function (err) { console.error("MathJax typeset of a widget failed", err); });
    } else {
      pending.push(el);
    }
  }
  var Hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var cmd = arguments[i];
        if (Array.isArray(cmd) && cmd[0] === "Typeset" && cmd[2]) typeset(cmd[2]);
      }
    }
  };
  var mj = window.MathJax;
  if (!mj) return;                       // no math on this page: embed-amd.js skips typesetting
  if (mj.version) {                      // MathJax 3 already loaded
    if (!mj.Hub) mj.Hub = Hub;
    return;
  }
  // window.MathJax is still the configuration object: hook into startup.
  mj.Hub = Hub;                          // in case a widget renders before MathJax is ready
  mj.startup = mj.startup || {};
  var userReady = mj.startup.ready;
  mj.startup.ready = function () {
    if (userReady) userReady(); else window.MathJax.startup.defaultReady();
    if (!window.MathJax.Hub) window.MathJax.Hub = Hub;
    pending.splice(0).forEach(typeset);
  };
})();
EOF

# --- RequireJS
cp "$tmp/src/requirejs/require.js" "$out/require.js"

# --- reveal.js 4 (nbconvert's reveal template uses the 4.x layout: dist/reveal.js, dist/reveal.css,
# dist/theme/NAME.css, plugin/notes/notes.js). The white theme imports its fonts relative to itself; only
# the woff files are kept (the .eot/.ttf fallbacks are never picked by a browser that takes woff).
rv="$tmp/src/reveal.js"
fonts=dist/theme/fonts/source-sans-pro
mkdir -p "$out/reveal.js/$fonts" "$out/reveal.js/plugin/notes"
cp "$rv/dist/reveal.js" "$rv/dist/reveal.css" "$out/reveal.js/dist/"
cp "$rv/dist/theme/white.css" "$out/reveal.js/dist/theme/"
cp "$rv/$fonts/source-sans-pro.css" "$rv/$fonts"/*.woff "$rv/$fonts/LICENSE" "$out/reveal.js/$fonts/"
chmod 644 "$out/reveal.js/$fonts"/*   # the package ships its fonts as mode 700
cp "$rv/plugin/notes/notes.js" "$out/reveal.js/plugin/notes/"
cp "$rv/LICENSE" "$out/reveal.js/LICENSE"

# Sanity checks: every file the pages name must be there.
for f in mathjax/tex-mml-chtml.js \
         mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff \
         mathjax/input/tex/extensions/physics.js \
         html-manager/embed-amd.js html-manager/offline.js require.js \
         reveal.js/dist/reveal.js reveal.js/dist/reveal.css reveal.js/dist/theme/white.css \
         reveal.js/dist/theme/fonts/source-sans-pro/source-sans-pro-regular.woff reveal.js/plugin/notes/notes.js; do
    [[ -s "$out/$f" ]] || { echo "vendor_js.sh: missing $f after extraction" >&2; exit 1; }
done
# Every asset embed-amd.js references by hashed name (fonts) must be present beside it, except the
# .eot/.ttf/.svg fallbacks that no current browser picks when woff2/woff is offered.
missing=$(grep -o '[0-9a-f]\{20\}\.woff2\?' "$out/html-manager/embed-amd.js" | sort -u |
          while read -r f; do [[ -f "$out/html-manager/$f" ]] || echo "$f"; done)
[[ -z "$missing" ]] || { echo "vendor_js.sh: embed-amd.js assets missing: $missing" >&2; exit 1; }

# Move into place (replace the old folder only once the new one is complete).
mkdir -p "$(dirname "$target")"
rm -rf "$target.old"
[[ -e "$target" ]] && mv "$target" "$target.old"
mv "$out" "$target"
rm -rf "$target.old"

echo "vendor_js.sh: wrote $target ($(du -sh "$target" | cut -f1))"
