from django.conf import settings

from credit_portal.accounts.actors import actor_for_user
from credit_portal.web.registry import my_nav, staff_nav


def portal(request):
    actor = actor_for_user(getattr(request, "user", None))
    door = _door(request.path)
    return {
        "actor": actor,
        "staff_nav": staff_nav.visible_to(actor) if door == "staff" and actor.kind == "staff" else [],
        "my_nav": my_nav.visible_to(actor) if door == "my" and actor.kind == "entity" else [],
        "LANGUAGES": settings.LANGUAGES,
        "door": door,
    }


def _door(path: str) -> str:
    for prefix, door in (("/staff/", "staff"), ("/my/", "my"), ("/api/", "api")):
        if path.startswith(prefix):
            return door
    return "public"
