from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fangkong.portal.services import articles_publish_due, links_check


@db_periodic_task(crontab(minute="*"))
def portal_publish_due() -> int:
    """Publish reviewed articles whose scheduled time has come (every minute)."""
    return articles_publish_due()


@db_periodic_task(crontab(hour="4", minute="40"))
def portal_links_check() -> dict[str, int]:
    """Flag dead links of the services directory (nightly)."""
    return links_check()
