"""Glue through the endpoint of `cauce up`: job runs and crawls run on local Spark, and the Data
Catalog the API serves is the local catalog that the jobs and the crawler read and write.

- StartJobRun runs the job in a background thread: a GlueJob subclass or a plain Glue script of the
  project (cauce.localstack.bindings.StackBindings.run_job, with the stack's default_arguments and
  retry policy), or a job created through CreateJob whose ScriptLocation is a file in the lake
  (`s3://bucket/key` is `<lake>/bucket/key`), run as a plain Glue script. GetJobRun and GetJobRuns
  answer with Glue's JobRun: JobRunState STARTING, RUNNING, then SUCCEEDED, FAILED or TIMEOUT, with
  ErrorMessage, ExecutionTime (seconds), Arguments, StartedOn/CompletedOn. A job already running as
  many runs as its MaxConcurrentRuns (1 by default) refuses another with ConcurrentRunsExceededException.
  Runs are kept in memory: they end with the server, their outputs stay in the lake.
- StartCrawler runs the crawler (the stack's, or one created through CreateCrawler with S3 targets)
  with cauce.localstack.crawler; GetCrawler shows State RUNNING, then READY, and LastCrawl.
- GetDatabases, GetDatabase, CreateDatabase, GetTables, GetTable, CreateTable, UpdateTable, DeleteTable
  and GetPartitions are answered from the local catalog (`<lake>/_cauce/catalog`).

Why the local catalog rather than writing through to moto's Glue: the local catalog is what jobs
resolve their sources against (CatalogSource) and what the crawler writes; it lives in the lake, so
it outlives the server, and one store cannot drift from another. moto's catalog is in memory and
would be a second copy to keep in step. A table created through the API is therefore read by the
next job. GetPartitions lists the partitions registered in that catalog, by a crawl or by
BatchCreatePartition, as Glue lists only registered ones.

Spark starts with the first job run or crawl, not with the server. One run or crawl uses Spark at a
time (they share the server's session); the others wait in STARTING. Other Glue operations (jobs'
and crawlers' definitions, triggers, workflows) are moto's.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cauce.core.aws import ACCOUNT, REGION
from cauce.localstack.gateway import AwsError, AwsRequest, AwsResponse

if TYPE_CHECKING:
    from cauce.localstack.server import LocalStackServer

TERMINAL = ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class JobRun:
    run_id: str
    job_name: str
    arguments: dict[str, str]
    state: str = "STARTING"
    started: dt.datetime = field(default_factory=_now)
    modified: dt.datetime = field(default_factory=_now)
    completed: dt.datetime | None = None
    error: str | None = None
    attempt: int = 0
    execution_seconds: float = 0.0

    def document(self) -> dict[str, Any]:
        """Glue's JobRun (GetJobRun)."""
        document: dict[str, Any] = {
            "Id": self.run_id, "Attempt": self.attempt, "JobName": self.job_name, "StartedOn": self.started,
            "LastModifiedOn": self.modified, "JobRunState": self.state, "Arguments": self.arguments, "PredecessorRuns": [],
            "ExecutionTime": int(self.execution_seconds), "GlueVersion": "5.0",
        }
        if self.completed is not None:
            document["CompletedOn"] = self.completed
        if self.error:
            document["ErrorMessage"] = self.error
        return document


@dataclass
class CrawlerState:
    state: str = "READY"
    last_crawl: dict[str, Any] | None = None


def _policy_of(job: Any) -> Any:
    """A CreateJob job's Timeout (minutes), WorkerType, NumberOfWorkers and MaxRetries as a run policy
    (Glue's defaults for those it leaves out)."""
    from cauce.etl.runner import RunPolicy

    settings = {"timeout_minutes": job.timeout or None, "max_retries": int(job.max_retries or 0)}
    if job.worker_type and job.number_of_workers:
        settings.update(worker_type=job.worker_type, number_of_workers=int(job.number_of_workers))
    return RunPolicy(**{key: value for key, value in settings.items() if value is not None})


class GlueService:
    def __init__(self, server: "LocalStackServer") -> None:
        self.server = server
        self.bindings = server.bindings
        self.runs: dict[str, JobRun] = {}
        self.crawlers: dict[str, CrawlerState] = {}
        self.spark_lock = threading.Lock()  # one job run or crawl on the shared Spark session at a time
        self._lock = threading.Lock()
        self._stack_jobs = server.stack.glue_jobs()
        self._stack_crawlers = {c.name: c for c in server.stack.glue_config.crawler_config.values()}

    @property
    def catalog(self) -> Any:
        return self.bindings.runtime.catalog

    @property
    def lake(self) -> Any:
        return self.bindings.runtime.lake

    # --- job runs -------------------------------------------------------------------------------

    def _moto_glue(self) -> Any:
        from moto.glue.models import glue_backends

        return glue_backends[ACCOUNT][REGION]

    def _api_job(self, name: str) -> Any:
        from moto.glue.exceptions import EntityNotFoundException

        try:
            return self._moto_glue().get_job(name)
        except EntityNotFoundException:
            return None

    def _runner(self, name: str) -> tuple[Callable[[str, dict[str, str]], Any], int]:
        """How a job runs (run id, arguments -> JobOutcome) and its MaxConcurrentRuns; EntityNotFoundException if unknown."""
        from cauce.statemachines.bindings import JobOutcome

        job = self._api_job(name)
        if job is not None:
            location = (job.command or {}).get("ScriptLocation", "")
            script = self.lake.local_path(location) if location.startswith("s3://") else Path(location)

            def run_script(run_id: str, arguments: dict[str, str]) -> Any:
                from cauce.etl.arguments import run_arguments
                from cauce.etl.glue_scripts import run_glue_script

                if not script.is_file():
                    return JobOutcome("FAILED", f"the job's script {location} is not in the lake ({script})")
                values = run_arguments(job.default_arguments or {}, arguments, name, run_id)
                result = run_glue_script(script, values, self.lake, self.bindings.runtime.spark, policy=_policy_of(job))
                state = "SUCCEEDED" if result.succeeded else ("TIMEOUT" if result.status == "TIMEOUT" else "FAILED")
                return JobOutcome(state, result.error, result)

            return run_script, int(((job.execution_property or {}).get("MaxConcurrentRuns")) or 1)
        if name in self._stack_jobs or self._known_job(name):
            definition = self._stack_jobs.get(name)
            concurrent = int(getattr(getattr(definition, "execution_property", None), "max_concurrent_runs", None)
                             or getattr(definition, "max_concurrent_runs", None) or 1)
            return (lambda run_id, arguments: self.bindings.run_job(name, arguments, run_id)), concurrent
        raise AwsError("EntityNotFoundException", f"Job with name: {name} not found.")

    def _known_job(self, name: str) -> bool:
        try:
            self.bindings.job_class_for(name)
        except Exception:
            return False
        return True

    def start_job_run(self, request: AwsRequest) -> AwsResponse:
        body = request.json()
        name = body.get("JobName")
        if not isinstance(name, str) or not name:
            raise AwsError("InvalidInputException", "JobName is required")
        runner, concurrent = self._runner(name)
        arguments = {str(k): str(v) for k, v in (body.get("Arguments") or {}).items()}
        with self._lock:
            running = [r for r in self.runs.values() if r.job_name == name and r.state not in TERMINAL]
            if len(running) >= concurrent:
                raise AwsError("ConcurrentRunsExceededException", f"Concurrent runs exceeded for {name}")
            run = JobRun(f"jr_{uuid.uuid4().hex}{uuid.uuid4().hex}"[:67], name, arguments)
            self.runs[run.run_id] = run
        threading.Thread(target=self._run, args=(run, runner), daemon=True, name=f"glue-{name}").start()
        return AwsResponse.json({"JobRunId": run.run_id})

    def _run(self, run: JobRun, runner: Callable[[str, dict[str, str]], Any]) -> None:
        from cauce.statemachines.bindings import JobOutcome

        with self.spark_lock:
            run.state, run.modified = "RUNNING", _now()
            started = time.perf_counter()
            try:
                outcome = runner(run.run_id, dict(run.arguments))
            except Exception as error:  # a job that cannot be loaded fails as on Glue, with the reason
                outcome = JobOutcome("FAILED", f"{type(error).__name__}: {error}")
        run.execution_seconds = time.perf_counter() - started
        run.attempt = int(getattr(outcome.result, "attempt", 0) or 0)
        run.error = outcome.error
        run.completed = run.modified = _now()
        run.state = outcome.state

    def get_job_run(self, request: AwsRequest) -> AwsResponse:
        body = request.json()
        run = self.runs.get(body.get("RunId", ""))
        if run is None or run.job_name != body.get("JobName"):
            raise AwsError("EntityNotFoundException", f"Job run {body.get('RunId')} of job {body.get('JobName')} not found")
        return AwsResponse.json({"JobRun": run.document()})

    def get_job_runs(self, request: AwsRequest) -> AwsResponse:
        name = request.json().get("JobName")
        self._runner(name)  # EntityNotFoundException for an unknown job
        runs = sorted((r for r in self.runs.values() if r.job_name == name), key=lambda r: r.started, reverse=True)
        return AwsResponse.json({"JobRuns": [r.document() for r in runs]})

    # --- crawlers -------------------------------------------------------------------------------

    def _crawler_document(self, name: str) -> dict[str, Any] | None:
        """The crawler in the stack's crawler_config shape (what the local crawler reads)."""
        if name in self._stack_crawlers:
            return self._stack_crawlers[name].document
        from moto.glue.exceptions import CrawlerNotFoundException

        try:
            crawler = self._moto_glue().get_crawler(name)
        except CrawlerNotFoundException:
            return None
        policy = crawler.schema_change_policy or {}
        return {"name": name, "database_name": crawler.database_name, "table_prefix": crawler.table_prefix or "",
                "s3_target": [{"path": t["Path"], "exclusions": t.get("Exclusions", [])} for t in (crawler.targets or {}).get("S3Targets", [])],
                "schema_change_policy": {"update_behavior": policy.get("UpdateBehavior", "UPDATE_IN_DATABASE"),
                                         "delete_behavior": policy.get("DeleteBehavior", "DEPRECATE_IN_DATABASE")},
                "recrawl_policy": {"recrawl_behavior": (crawler.recrawl_policy or {}).get("RecrawlBehavior", "CRAWL_EVERYTHING")}}

    def start_crawler(self, request: AwsRequest) -> AwsResponse:
        name = request.json().get("Name", "")
        document = self._crawler_document(name)
        if document is None:
            raise AwsError("EntityNotFoundException", f"Crawler with name {name} has not been found")
        with self._lock:
            state = self.crawlers.setdefault(name, CrawlerState())
            if state.state != "READY":
                raise AwsError("CrawlerRunningException", f"Crawler with name {name} has already started")
            state.state = "RUNNING"
        threading.Thread(target=self._crawl, args=(name, document, state), daemon=True, name=f"crawler-{name}").start()
        return AwsResponse.json({})

    def _crawl(self, name: str, document: dict[str, Any], state: CrawlerState) -> None:
        from cauce.localstack.crawler import LocalCrawler

        started = _now()
        with self.spark_lock:
            try:
                runtime = self.bindings.runtime
                if name in self._stack_crawlers:
                    self.bindings.run_crawler(name)
                else:
                    LocalCrawler(document, runtime.lake, runtime.catalog, runtime.spark).run()
                crawl = {"Status": "SUCCEEDED"}
            except Exception as error:
                crawl = {"Status": "FAILED", "ErrorMessage": f"{type(error).__name__}: {error}"}
        state.state = "STOPPING"
        state.last_crawl = {**crawl, "StartTime": started, "LogGroup": "/aws-glue/crawlers", "LogStream": name,
                            "MessagePrefix": str(uuid.uuid4())}
        state.state = "READY"

    def get_crawler(self, request: AwsRequest) -> AwsResponse | None:
        name = request.json().get("Name", "")
        state = self.crawlers.get(name, CrawlerState())
        if name in self._stack_crawlers:
            config = self._stack_crawlers[name].document
            crawler: dict[str, Any] = {
                "Name": name, "Role": config.get("role", ""), "DatabaseName": config["database_name"],
                "TablePrefix": config.get("table_prefix", ""), "Schedule": {"ScheduleExpression": config.get("schedule", ""), "State": "SCHEDULED"},
                "Targets": {"S3Targets": [{"Path": t["path"], "Exclusions": list(t.get("exclusions") or [])} for t in config.get("s3_target", [])]},
            }
        elif self._crawler_document(name) is not None:
            crawler = self._moto_glue().get_crawler(name).as_dict()
        else:
            return None  # moto's EntityNotFoundException
        crawler["State"] = state.state
        if state.last_crawl is not None:
            crawler["LastCrawl"] = state.last_crawl
        return AwsResponse.json({"Crawler": crawler})

    # --- the catalog ------------------------------------------------------------------------------

    def _database(self, name: Any) -> str:
        if not isinstance(name, str) or name not in self.catalog.databases():
            raise AwsError("EntityNotFoundException", f"Database {name} not found.")
        return name

    def get_databases(self, request: AwsRequest) -> AwsResponse:
        return AwsResponse.json({"DatabaseList": [{"Name": d, "CatalogId": ACCOUNT} for d in self.catalog.databases()]})

    def get_database(self, request: AwsRequest) -> AwsResponse:
        return AwsResponse.json({"Database": {"Name": self._database(request.json().get("Name")), "CatalogId": ACCOUNT}})

    def create_database(self, request: AwsRequest) -> AwsResponse:
        name = (request.json().get("DatabaseInput") or {}).get("Name")
        if not isinstance(name, str) or not name:
            raise AwsError("InvalidInputException", "DatabaseInput.Name is required")
        if name in self.catalog.databases():
            raise AwsError("AlreadyExistsException", f"Database already exists: {name}")
        self.catalog.create_database(name)
        return AwsResponse.json({})

    def _table(self, database: str, name: Any) -> dict[str, Any]:
        from cauce.etl.catalog import CatalogError

        try:
            definition = self.catalog.get_table(database, str(name))
        except CatalogError:
            raise AwsError("EntityNotFoundException", f"Table {name} not found.") from None
        return {**definition, "DatabaseName": database, "CatalogId": ACCOUNT}

    def get_table(self, request: AwsRequest) -> AwsResponse:
        body = request.json()
        return AwsResponse.json({"Table": self._table(self._database(body.get("DatabaseName")), body.get("Name"))})

    def get_tables(self, request: AwsRequest) -> AwsResponse:
        body = request.json()
        database = self._database(body.get("DatabaseName"))
        pattern = body.get("Expression")
        import re

        names = [t for t in self.catalog.tables(database) if not pattern or re.fullmatch(pattern.replace("*", ".*"), t)]
        return AwsResponse.json({"TableList": [self._table(database, t) for t in names]})

    def put_table(self, request: AwsRequest) -> AwsResponse:
        body = request.json()
        database = self._database(body.get("DatabaseName"))
        table = body.get("TableInput") or {}
        exists = table.get("Name") in self.catalog.tables(database)
        if request.operation == "CreateTable" and exists:
            raise AwsError("AlreadyExistsException", f"Table already exists: {table.get('Name')}")
        if request.operation == "UpdateTable" and not exists:
            raise AwsError("EntityNotFoundException", f"Table {table.get('Name')} not found.")
        try:
            self.catalog.put_table(database, table)
        except ValueError as error:
            raise AwsError("InvalidInputException", str(error)) from None
        return AwsResponse.json({})

    def delete_table(self, request: AwsRequest) -> AwsResponse:
        body = request.json()
        database = self._database(body.get("DatabaseName"))
        self._table(database, body.get("Name"))
        self.catalog.delete_table(database, body["Name"])
        return AwsResponse.json({})

    def get_partitions(self, request: AwsRequest) -> AwsResponse:
        """The partitions registered in the local catalog (by a crawl, or BatchCreatePartition), as Glue
        lists only registered partitions: a folder written since is not one until it is registered."""
        body = request.json()
        database = self._database(body.get("DatabaseName"))
        table = self._table(database, body.get("TableName"))
        partitions = [{"Values": p["Values"], "DatabaseName": database, "TableName": table["Name"], "CatalogId": ACCOUNT,
                       "StorageDescriptor": {**table["StorageDescriptor"], **p.get("StorageDescriptor", {})}}
                      for p in self.catalog.get_partitions(database, table["Name"])]
        return AwsResponse.json({"Partitions": partitions})

    def batch_create_partition(self, request: AwsRequest) -> AwsResponse:
        body = request.json()
        database = self._database(body.get("DatabaseName"))
        table = self._table(database, body.get("TableName"))
        inputs = body.get("PartitionInputList") or []
        added = {tuple(p["Values"]) for p in self.catalog.put_partitions(database, table["Name"], inputs)}
        errors = [{"PartitionValues": p["Values"], "ErrorDetail": {"ErrorCode": "AlreadyExistsException",
                                                                    "ErrorMessage": "Partition already exists."}}
                  for p in inputs if tuple(p["Values"]) not in added]
        return AwsResponse.json({"Errors": errors} if errors else {})


OPERATIONS = {
    "StartJobRun": GlueService.start_job_run, "GetJobRun": GlueService.get_job_run, "GetJobRuns": GlueService.get_job_runs,
    "StartCrawler": GlueService.start_crawler, "GetCrawler": GlueService.get_crawler,
    "GetDatabases": GlueService.get_databases, "GetDatabase": GlueService.get_database, "CreateDatabase": GlueService.create_database,
    "GetTables": GlueService.get_tables, "GetTable": GlueService.get_table, "CreateTable": GlueService.put_table,
    "UpdateTable": GlueService.put_table, "DeleteTable": GlueService.delete_table, "GetPartitions": GlueService.get_partitions,
    "BatchCreatePartition": GlueService.batch_create_partition,
}


def register(server: "LocalStackServer", gateway: Any) -> None:
    """Serve Glue's job runs, crawls and catalog from the local stack (see the module docstring)."""
    service = GlueService(server)
    for crawler in server.stack.glue_config.crawler_config.values():  # the crawlers' databases exist from the start, as on AWS
        service.catalog.create_database(crawler.database_name)
    for operation, method in OPERATIONS.items():
        gateway.operation("glue", operation, lambda request, method=method: method(service, request))
    server.glue_service = service
