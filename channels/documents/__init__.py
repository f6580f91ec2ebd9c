"""Documents rendered by the channels app: letters to PDF (``channels.documents.letters``)."""
