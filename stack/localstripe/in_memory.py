"""Runs localstripe with its state in memory only.

localstripe pickles its whole store to /tmp/localstripe.pickle on every write, so each request costs time
proportional to everything stored so far (a benchmark slowed to one order per second), and every
localstripe on the machine shares that one file. The local stack wants neither: state lives as long as
the process. Arguments are localstripe's own (--port, --from-scratch).
"""
import localstripe.resources as resources

resources.Store.dump_to_disk = lambda self: None

from localstripe.server import start  # noqa: E402  (after the patch, on purpose)

start()
