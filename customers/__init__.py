"""The unified customer record: customers, contact points, addresses, consents, back office,
identity resolution, merge, import/export and GDPR."""
