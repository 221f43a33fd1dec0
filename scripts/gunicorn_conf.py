"""gunicorn settings for ``make serve`` (scripts/serve.sh passes ``--config`` with this file).

Workers, threads and the address come from the environment (see README "Production serving").
Each worker, once the app is loaded, parses the certificate fonts (otherwise the first certificate
a worker renders pays ~1.5 s) and then freezes the objects that exist at start-up — the app, its
templates, SQLAlchemy's mappers, the fonts — out of the garbage collector's reach: the ~170,000 of
them would otherwise be re-scanned by every full collection, tens of milliseconds each time, in
the middle of some request.
"""

from __future__ import annotations

import gc
import os

workers = int(os.environ.get("IMH_WORKERS", "2"))
threads = int(os.environ.get("IMH_THREADS", "4"))
bind = os.environ.get("IMH_BIND", "127.0.0.1:8000")
accesslog = "-"


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    from imh_course.documents._pdf import warm_up

    warm_up()
    gc.collect()
    gc.freeze()
