"""PostgreSQL backend that starts the embedded servers before its first connection (or pool)."""

from __future__ import annotations

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        from crm import embedded

        # Both the plain connection and psycopg's pool read their parameters here.
        endpoints = embedded.ensure_started()
        self.settings_dict["HOST"] = str(endpoints.postgres_socket_dir)
        self.settings_dict["PORT"] = str(endpoints.postgres_port)
        return super().get_connection_params()
