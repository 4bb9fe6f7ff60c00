"""The project's one cache folder (as test/helpers/cache.ts): $FGCAM_CACHE, default ~/.cache/fgcam."""
import os


def cache_root():
    if os.environ.get('FGCAM_CACHE'):
        return os.path.abspath(os.environ['FGCAM_CACHE'])
    xdg = os.environ.get('XDG_CACHE_HOME')
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'fgcam')
