"""URL patterns of the disclosure board and of the on-time rates, per door; ``credit_portal.urls``
mounts ``staff_patterns`` under ``/staff/`` (namespace ``staff``) and ``public_patterns`` at the
root (namespace ``public``)."""

from django.urls import path

from disclosure import views_board

staff_patterns = [
    path("disclosure/", views_board.board, name="board_index"),
    path("disclosure/on-time/", views_board.on_time, name="board_on_time"),
    path("disclosure/on-time.csv", views_board.on_time_csv, name="board_on_time_csv"),
]

public_patterns = [
    path("disclosure/on-time/", views_board.public_on_time, name="stats_on_time"),
    path("disclosure/on-time.csv", views_board.public_on_time_csv, name="stats_on_time_csv"),
]
