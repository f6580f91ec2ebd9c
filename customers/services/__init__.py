"""Writes to the customer record: every state change goes through a function of this package.

``records`` (customers, contact points, addresses, consents, stages), ``identity`` (resolution),
``duplicates``, ``merge``, ``backoffice`` (upserts by external id), ``imports`` and ``gdpr``.
"""
