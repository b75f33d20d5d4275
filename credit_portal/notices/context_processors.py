from django.utils.functional import SimpleLazyObject

from credit_portal.accounts.models import User
from credit_portal.notices.selectors import unread_count


def notices(request):
    """``unread_notices`` for signed-in staff: the count of their unread notices, queried (one COUNT)
    only if a template uses it. Nothing for anonymous visitors and entity users."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "kind", None) != User.Kind.STAFF:
        return {}
    return {"unread_notices": SimpleLazyObject(lambda: unread_count(user))}
