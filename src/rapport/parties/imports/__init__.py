"""Import of contacts and accounts from CSV (any delimiter/encoding, Google, Outlook) and vCard.

Modules, from the bytes up: ``sniff`` (encoding, delimiter, format), ``records`` (the robust
streaming record reader), ``vcard``, ``mapping`` (header recognition, field mapping),
``rows`` (per-row normalisation and validation), ``engine`` (batch matching and writing) and
``services`` (the job life cycle that views, the API, the CLI and the task call).
"""
