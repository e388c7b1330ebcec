"""
Render one queued brief version in a fresh process and print what it cost, as JSON:
`python bench/render_brief.py VERSION_ID` (bench_briefs.py runs it with the bench's settings).

A process of its own, so that its peak memory (ru_maxrss) is the rendering's, as a Celery
worker process on the `briefs` queue would see it.
"""

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(version_id: int) -> None:
    import django

    django.setup()
    from reviews import packages
    from reviews.models import BriefVersion

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    packages.render_version(BriefVersion.objects.get(pk=version_id))
    seconds = time.perf_counter() - started
    version = BriefVersion.objects.get(pk=version_id)
    json.dump(
        {
            "seconds": seconds,
            "pages": version.pages,
            "status": version.status,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "before_mib": before,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
