"""The service's facts, read from botocore's ``mwaa-serverless`` model: the bottom layer.

Model access (:mod:`.model`), input constraints generated from it (:mod:`.constraints`), run states and
their sets (:mod:`.run_states`), how a failed call is classed (:mod:`.error_kinds`) and the workflow
definition format the service accepts (:mod:`.workflow_definition`). Depends on botocore and PyYAML only
(never Airflow, never the rest of the provider): both the provider and the emulator import it.
"""
