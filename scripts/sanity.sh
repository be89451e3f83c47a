#!/usr/bin/env bash
# ansible-test sanity needs the collection at .../ansible_collections/layer2/linux: copy the files git
# knows (tracked, and new files not ignored) there and run it with no ignore file.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/l2sanity.XXXXXX)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/layer2/linux"
mkdir -p "$dest"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dest")

# Offline pip bootstrap for ansible-test's per-test venvs (see get_pip_shim.py).
pip_version=$(python3 - <<'PY'
import pathlib, re, ansible_test
source = (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()
print(re.search(r"pip='([^']+)'", source).group(1))
PY
)
cache=~/.ansible/test/cache
mkdir -p "$cache"
cp "$root/scripts/get_pip_shim.py" "$cache/get_pip_${pip_version//./_}.py"

cd "$dest"
ansible-test sanity --color no --python "$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --local --requirements "$@"
