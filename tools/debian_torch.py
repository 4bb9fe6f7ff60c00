"""Import before torch: under a python3 without torch (pyenv's shim can shadow Debian's), the
script is run again with /usr/bin/python3, which has python3-torch."""
import os
import sys

try:
    import torch  # noqa: F401
except ImportError:
    if os.path.exists('/usr/bin/python3') and not os.environ.get('FGCAM_REEXEC'):
        os.environ['FGCAM_REEXEC'] = '1'
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    raise
