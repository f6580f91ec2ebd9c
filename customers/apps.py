from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from crm.navigation import NavItem, nav_register

        nav_register(
            NavItem(
                "customers", _("Customers"), "customers:list", "users", permission="customers.view_customer",
                order=10,
                description=_("Find a customer by name, email, phone or number; see and update their record."),
            )
        )  # fmt: skip
