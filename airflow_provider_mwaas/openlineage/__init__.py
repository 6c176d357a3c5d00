"""OpenLineage for the provider's operator and sensor: run facets and opt-in parent info injection.

Only :mod:`~airflow_provider_mwaas.openlineage.mixin` is imported at DAG parse time, and it imports
nothing of OpenLineage: the openlineage provider (the ``openlineage`` extra) is imported when its
listener asks for facets or when a start injects parent info. Without it, everything works as before.
"""
