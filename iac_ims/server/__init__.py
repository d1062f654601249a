"""`iac-ims serve`: an HCP Terraform / Terraform Enterprise run task endpoint (extra `iac-ims[server]`).

HCP Terraform POSTs a signed request at the `pre_plan` stage; the server answers 200 at once,
then downloads the run's configuration, scans it like `iac-ims scan` and PATCHes the result back
(https://developer.hashicorp.com/terraform/cloud-docs/api-docs/tasks/run-tasks-integration).

One module per concern: `signature` (HMAC), `payload` (the request), `origins` (which hosts may
be called), `fetch` (the download), `archive` (unpacking it safely), `worker` (unpack and scan in
a scan process), `outcomes` (the result's body within the API's limits), `callback` (the PATCH,
retried), `run` (one job from start to end), `jobs` (queue, concurrency, draining), `app` (HTTP
routes and the server's life), `config` (its settings). Nothing here imports aiohttp at package
import: `iac-ims serve` says what to install when it is missing.
"""
