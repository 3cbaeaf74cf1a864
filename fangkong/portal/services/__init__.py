from fangkong.portal.services.articles import (
    article_create,
    article_like,
    article_publish,
    article_return,
    article_submit,
    article_update,
    article_view,
    article_withdraw,
    articles_publish_due,
    attachment_add,
    revision_diff,
)
from fangkong.portal.services.comments import (
    address_ban,
    comment_approve,
    comment_post,
    comment_reject,
)
from fangkong.portal.services.directory import link_save, links_check
from fangkong.portal.services.selfservice import feedback_create

__all__ = [
    "address_ban",
    "article_create",
    "article_like",
    "article_publish",
    "article_return",
    "article_submit",
    "article_update",
    "article_view",
    "article_withdraw",
    "articles_publish_due",
    "attachment_add",
    "comment_approve",
    "comment_post",
    "comment_reject",
    "feedback_create",
    "link_save",
    "links_check",
    "revision_diff",
]
