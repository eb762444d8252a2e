from django_tasks import task

from . import services


@task()
def run_order_task(order_id: str) -> None:
    services.order_run(order_id=order_id)


@task()
def poll_order_task(order_id: str, token: int | None = None) -> None:
    services.order_poll(order_id=order_id, token=token)
