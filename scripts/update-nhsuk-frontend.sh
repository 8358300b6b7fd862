#!/usr/bin/env bash
# Vendors the NHS design system (npm package nhsuk-frontend) under static/nhsuk-frontend/:
# its compiled CSS, its JavaScript (an ES module, loaded by static/js/app.js) and the icons
# the CSS refers to, exactly as published. The version lands in static/nhsuk-frontend/VERSION,
# which the server reads (src/web/assets.rs) to serve the files under a versioned address.
#
#   scripts/update-nhsuk-frontend.sh          # the version in VERSION (re-vendor it)
#   scripts/update-nhsuk-frontend.sh 10.7.0   # another version (10.x: the markup is 10.x's)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dest=static/nhsuk-frontend
version="${1:-$(cat "$dest/VERSION" 2>/dev/null || echo 10.6.1)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "npm pack nhsuk-frontend@$version"
(cd "$work" && npm pack --silent "nhsuk-frontend@$version" >/dev/null)
tar -xzf "$work/nhsuk-frontend-$version.tgz" -C "$work"
dist="$work/package/dist/nhsuk"
published="$(node -p "require('$work/package/package.json').version")"
[ "$published" = "$version" ] || { echo "npm gave $published, not $version" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest/assets/images"
cp "$dist/nhsuk-frontend.min.css" "$dest/nhsuk-frontend.min.css"
cp "$dist/nhsuk-frontend.min.js" "$dest/nhsuk-frontend.min.js"
# Only the images the CSS points at (url(/assets/images/...)); the favicon too.
for image in $(grep -o 'url(/assets/images/[^)]*)' "$dest/nhsuk-frontend.min.css" \
               | sed 's|url(/assets/images/||; s|)||' | sort -u) favicon.svg favicon.ico; do
  cp "$dist/assets/images/$image" "$dest/assets/images/$image"
done
echo "$version" > "$dest/VERSION"
(cd "$dest" && sha256sum nhsuk-frontend.min.css nhsuk-frontend.min.js > SHA256SUMS)
echo "nhsuk-frontend $version vendored into $dest (MIT licence, https://github.com/nhsuk/nhsuk-frontend)"
ls -l "$dest" "$dest/assets/images"
# The app's script imports the vendored module by its versioned address.
sed -i "s|/static/nhsuk-frontend/[^/]*/nhsuk-frontend.min.js|/static/nhsuk-frontend/$version/nhsuk-frontend.min.js|" static/js/app.js
