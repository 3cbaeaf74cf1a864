"""Words for the portal app's audited actions and values (core.labels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.labels import names_for, register
from fangkong.portal.models import Article

register(
    actions={
        "portal.article.create": _("Article written"),
        "portal.article.update": _("Article edited"),
        "portal.article.submit": _("Article sent for review"),
        "portal.article.publish": _("Article published"),
        "portal.article.schedule": _("Article scheduled"),
        "portal.article.return": _("Article returned to the editor"),
        "portal.article.withdraw": _("Article withdrawn"),
        "portal.attachment.add": _("Attachment added"),
        "portal.comment.approve": _("Comment approved"),
        "portal.comment.reject": _("Comment rejected"),
        "portal.address.ban": _("Address banned from commenting"),
        "portal.link.save": _("Services directory link saved"),
        "portal.feedback.create": _("Feedback sent by a resident"),
        "portal.arrival.create": _("Arrival report sent by a traveller"),
    },
    fields={
        "title": _("title"),
        "channel": pgettext_lazy("portal channel", "channel"),
        "url": pgettext_lazy("web address", "address"),
        "filename": _("file"),
        "scheduled_at": _("scheduled for"),
        "cover": _("cover image"),
    },
    values={"state": dict(Article.State.choices)},
    objects={
        "portal.article": _("article"),
        "portal.comment": _("comment"),
        "portal.servicelink": _("directory link"),
        "portal.feedback": _("feedback"),
        "portal.arrivalreport": _("arrival report"),
    },
)

# What an audit row's object is, in words (the audit page).
register(
    names=names_for(
        {
            "portal.article": ("title",),
            "portal.comment": ("article__title",),
            "portal.servicelink": (("title_zh", "title_en"),),
            "portal.feedback": ("subject",),
        }
    )
)
