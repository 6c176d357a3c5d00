"""Deploying workflows: the definition store (S3 objects) and the workflow operations' parameters.

The definition format itself is a service fact, in :mod:`airflow_provider_mwaas.service.workflow_definition`.
"""
