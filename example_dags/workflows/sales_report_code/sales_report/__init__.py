"""The sales_report workflow's own code (its MWAA Serverless ``Code`` package)."""
