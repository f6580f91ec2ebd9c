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
        nav_register(
            NavItem(
                "duplicates", _("Duplicates"), "customers:duplicates", "document-duplicate",
                permission="customers.view_duplicatepair", order=15,
                description=_("Customers who may be the same person: review, merge or dismiss."),
            )
        )  # fmt: skip
        nav_register(
            NavItem(
                "imports", _("Imports"), "customers:import_list", "arrow-up-tray",
                permission="customers.import_customer", order=16,
                description=_("Import customers, orders or contracts from a CSV or Excel file, with a dry run first."),
            )
        )  # fmt: skip
