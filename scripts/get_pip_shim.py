# ansible-test bootstraps pip in each sanity venv with a get-pip script it downloads from a host this
# machine cannot reach. This stand-in does the same from what is here: ensurepip, then pip from the
# package index. Arguments are get-pip's (pip install options and `pip==X`).
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
