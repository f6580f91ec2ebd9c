"""Importing customers, orders and contracts from CSV or XLSX files (see the package's modules).

``reading`` opens files, ``mapping`` maps columns to fields, ``validation`` checks rows, ``rows`` is the
row-by-row path, ``bulk`` the COPY + set-based path, ``jobs`` the job life cycle, ``report`` the CSV report.
"""

from customers.services.imports.jobs import (
    import_job_claim,
    import_job_create,
    import_job_queue,
    import_preview,
    import_run,
)
from customers.services.imports.mapping import mapping_for, mapping_suggest
from customers.services.imports.reading import ImportFileError
from customers.services.imports.report import report_csv

__all__ = [
    "ImportFileError",
    "import_job_claim",
    "import_job_create",
    "import_job_queue",
    "import_preview",
    "import_run",
    "mapping_for",
    "mapping_suggest",
    "report_csv",
]
