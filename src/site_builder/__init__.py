"""The site builder: lesson script -> notebook -> executed (cached) notebook -> page -> site.

Stages, one module each: ``lesson`` (parse and convert), ``execute`` (run in a
kernel), ``cache`` (content-hash cache), ``build`` (what to run, in parallel),
``pages`` and ``htmlpost`` (what a page shows), ``mkdocs_hooks`` (into MkDocs),
``deploy`` and ``cli``.
"""
