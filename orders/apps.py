from django.apps import AppConfig

from . import checks  # noqa: F401  (registers the routing check)


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"
