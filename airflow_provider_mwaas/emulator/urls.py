"""URL bases and paths of the service, as in a moto ``urls.py``.

Both host names are listed: ``airflow-serverless.<region>.api.aws`` is the endpoint botocore's rules
resolve to (moto's catch-all only intercepts ``*.amazonaws.com``), and
``airflow-serverless.<region>.amazonaws.com`` is the host moto's server builds from the SigV4
credential scope when it routes a request sent to ``127.0.0.1``.
"""

from __future__ import annotations

from .responses import MWAAServerlessResponse

url_bases = [
    r"https?://airflow-serverless\.(.+)\.api\.aws",
    r"https?://airflow-serverless\.(.+)\.amazonaws\.com",
]

url_paths = {
    "{0}/$": MWAAServerlessResponse.dispatch,
}
