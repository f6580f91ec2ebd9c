from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Relais")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from crm.navigation import NavItem, nav_register
        from crm.roles import roles_sync_after_migrate

        # Roles are configuration kept in code; post_migrate is where Django creates permissions.
        post_migrate.connect(roles_sync_after_migrate, sender=self, dispatch_uid="relais_roles_sync")
        self._permission_cache_wiring()

        nav_register(NavItem("home", _("Home"), "home", "home", order=0))
        nav_register(
            NavItem(
                "team", _("Team"), "team", "user-group", permission="crm.supervise_team", order=80,
                description=_("Who is in the team, their roles and when they last signed in."),
            )
        )  # fmt: skip
        nav_register(
            NavItem(
                "api_tokens", _("API tokens"), "api_tokens", "key", permission="crm.use_api_tokens",
                section="tools", order=10,
                description=_("Create and revoke keys for integrations that call the REST API as you."),
            )
        )  # fmt: skip
        nav_register(
            NavItem(
                "api_docs", _("API documentation"), "api_docs", "code-bracket", permission="crm.use_api_tokens",
                section="tools", order=20,
                description=_("The interactive OpenAPI documentation of every endpoint."),
            )
        )  # fmt: skip
        nav_register(
            NavItem(
                "operations", _("Operations"), "operations", "server-stack", permission="crm.view_operations",
                section="tools", order=30,
                description=_("Live health of the database, Redis, workers and beat; queues and scheduled jobs."),
            )
        )  # fmt: skip
        nav_register(
            NavItem(
                "admin", _("Administration"), "admin:index", "cog-6-tooth", permission="crm.change_user",
                section="tools", order=40,
                description=_("Staff accounts, roles, API tokens, the beat schedule and every record."),
            )
        )  # fmt: skip

    def _permission_cache_wiring(self) -> None:
        """Keep crm.auth's cached permission sets true: any change to who holds what makes them stale."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

        from crm import auth

        def changed(sender, **kwargs) -> None:
            if kwargs.get("action", "post_").startswith("post_"):
                auth.permissions_changed()

        def user_saved(sender, instance, **kwargs) -> None:
            auth.user_saved(instance.pk)

        user_model = get_user_model()
        for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(changed, sender=through, dispatch_uid=f"relais_perms_{through._meta.label}")
        for model in (Group, Permission):
            post_save.connect(changed, sender=model, dispatch_uid=f"relais_perms_save_{model._meta.label}")
            post_delete.connect(changed, sender=model, dispatch_uid=f"relais_perms_delete_{model._meta.label}")
        post_migrate.connect(changed, sender=self, dispatch_uid="relais_perms_migrate")
        post_save.connect(user_saved, sender=user_model, dispatch_uid="relais_perms_user_save")
        post_delete.connect(user_saved, sender=user_model, dispatch_uid="relais_perms_user_delete")
