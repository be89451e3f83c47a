#!/bin/bash
# ansible-test sanity needs the collection at .../ansible_collections/layer2/linux: copy the files git
# knows (tracked, and new files not ignored) there and run it with no ignore file.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/l2sanity.XXXXXX)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/layer2/linux"
mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dest")
cd "$dest"
ansible-test sanity --color no --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --venv "$@"
