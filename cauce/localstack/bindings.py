"""The stack's Tasks bound to the project's code: Lambda functions to their handlers (the
`handler` of each lambda_config entry, imported from the project), Glue jobs to the job classes
found in the project, crawlers to the local crawler, all on one local runtime and lake.

    with LocalStepFunctions(stack, bindings=StackBindings(stack)) as sfn: ...

This is the local stack's side of cauce.statemachines.bindings.TaskBindings.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cauce.statemachines.bindings import FunctionSettings, JobOutcome
from cauce.statemachines.validate import KnownTargets

if TYPE_CHECKING:
    from cauce.core.stack import Stack

Handler = Callable[[Any, Any], Any]


class StackBindings:
    """`functions` and `jobs` add or override bindings: function name -> handler, job name -> job class."""

    def __init__(self, stack: "Stack", *, lake: Path | None = None, runtime: Any = None,
                 functions: Mapping[str, Handler] | None = None, jobs: Mapping[str, type] | None = None,
                 project: Any = None) -> None:
        self.stack = stack
        self.project = project  # the user's project (cauce.core.project.Project): where its jobs are
        self._function_configs = {f.function_name: f for f in stack.lambda_config.values()}
        self._job_configs = stack.glue_jobs()
        self._crawler_configs = {c.name: c for c in stack.glue_config.crawler_config.values()}
        self._handlers: dict[str, Handler] = dict(functions or {})
        self._job_classes: dict[str, type] = dict(jobs or {})
        self._runtime = runtime
        self._lake = lake
        self.crawls: list[Any] = []
        self._s3: Any = None

    def known_targets(self) -> KnownTargets:
        from cauce.etl.discovery import discover

        return KnownTargets(functions=frozenset(set(self._handlers) | set(self._function_configs)),
                            jobs=frozenset(set(self._job_classes) | set(discover(self.project)) | set(self._glue_scripts())),
                            crawlers=frozenset(self._crawler_configs),
                            load_function=self.handler_for, load_job=self.job_class_for)

    def bind_function(self, function_name: str, handler: Handler) -> None:
        """A function known only at run time (created through the Lambda API): its name now resolves here."""
        self._handlers[function_name] = handler

    def unbind_function(self, function_name: str) -> None:
        """A function deleted through the API: its name resolves to the stack's handler again, if any."""
        self._handlers.pop(function_name, None)

    def has_function(self, function_name: str) -> bool:
        return function_name in self._handlers or function_name in self._function_configs

    def handler_for(self, function_name: str) -> Handler:
        if function_name not in self._handlers:
            config = self._function_configs.get(function_name)
            if config is None:
                raise LookupError(f"no local handler for Lambda function {function_name!r}")
            module_name, _, attribute = config.handler.rpartition(".")
            self._handlers[function_name] = getattr(importlib.import_module(module_name), attribute)
        return self._handlers[function_name]

    def function_settings(self, function_name: str) -> FunctionSettings:
        config = self._function_configs.get(function_name)
        if config is None:  # a handler bound by name only: Lambda's defaults
            return FunctionSettings()
        return FunctionSettings(memory_size=config.memory_size, timeout=config.timeout)

    def _glue_scripts(self) -> dict[str, Path]:
        """Plain Glue scripts bound to job names: a script whose file stem is the job's name, or the
        stem of the job definition's script_location (`-` and `_` alike)."""
        from cauce.etl.discovery import glue_scripts

        scripts = {stem.replace("-", "_"): path for stem, path in glue_scripts(self.project).items()}
        bound = {}
        for name in set(self._job_configs) | {stem for stem in scripts}:
            location = self._job_configs[name].script_location if name in self._job_configs else ""
            for stem in (name, Path(location).stem):
                if stem and stem.replace("-", "_") in scripts:
                    bound[name] = scripts[stem.replace("-", "_")]
                    break
        return bound

    def job_class_for(self, job_name: str) -> type:
        if job_name not in self._job_classes and job_name in self._glue_scripts():
            return self._glue_scripts()[job_name]  # a plain Glue script: its path stands for the class
        if job_name not in self._job_classes:
            from cauce.etl.discovery import resolve_job

            self._job_classes[job_name] = resolve_job(job_name, self.project)[0]
        return self._job_classes[job_name]

    def run_job(self, job_name: str, arguments: Mapping[str, str], run_id: str) -> JobOutcome:
        from cauce.etl.arguments import run_arguments
        from cauce.etl.runner import RunPolicy, run_job

        definition = self._job_configs.get(job_name)
        values = run_arguments(definition.default_arguments if definition else None, arguments, job_name, run_id)
        target = self.job_class_for(job_name)
        if isinstance(target, Path):  # a plain Glue script, on the local awsglue
            from cauce.etl.glue_scripts import run_glue_script

            result = run_glue_script(target, values, self.runtime.lake, self.runtime.spark, policy=RunPolicy.for_job(definition))
        else:
            result = run_job(target, values, self.runtime, RunPolicy.for_job(definition))
        state = "SUCCEEDED" if result.succeeded else ("TIMEOUT" if result.status == "TIMEOUT" else "FAILED")
        return JobOutcome(state, result.error, result)

    def run_crawler(self, crawler_name: str) -> Any:
        from cauce.localstack.crawler import LocalCrawler

        if crawler_name not in self._crawler_configs:
            raise LookupError(f"no crawler {crawler_name!r} in the stack")
        runtime = self.runtime
        result = LocalCrawler(self._crawler_configs[crawler_name].document, runtime.lake, runtime.catalog, runtime.spark).run()
        self.crawls.append(result)
        return result

    def lake_s3(self, request: Any) -> Any:
        """An S3 request of a local run (an ItemReader, a ResultWriter, an `aws-sdk:s3` Task), answered from
        the lake by the S3 that `cauce up` serves (cauce.localstack.api.s3), so a run reads and writes what
        the jobs and the crawler see. Takes and gives botocore's prepared request and response."""
        from urllib.parse import parse_qs, unquote, urlsplit

        from botocore.awsrequest import AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        from cauce.localstack.api.s3 import S3Api, S3Store
        from cauce.localstack.gateway import AwsError, AwsRequest

        if self._s3 is None:
            self._s3 = S3Api(S3Store(self.runtime.lake.root))
        parts = urlsplit(request.url)
        body = request.body
        body = body.read() if hasattr(body, "read") else body.encode() if isinstance(body, str) else body or b""
        headers = {key.lower(): value.decode() if isinstance(value, bytes) else value for key, value in request.headers.items()}
        headers["host"] = parts.netloc
        asked = AwsRequest(service="s3", operation=None, method=request.method, path=unquote(parts.path),
                           query=parse_qs(parts.query, keep_blank_values=True), headers=headers, body=body)
        try:
            answer = self._s3.handle(asked)
        except AwsError as error:
            answer = error.response()
        content = answer.body.read() if hasattr(answer.body, "read") else answer.body
        content = content.encode() if isinstance(content, str) else content
        return AWSResponse(request.url, answer.status, answer.headers, MockRawResponse(content))

    @property
    def runtime(self) -> Any:
        """The local Glue runtime the jobs and crawlers share, with the stack's connections registered."""
        if self._runtime is None:
            from cauce.core.lake import default_lake
            from cauce.etl.runtimes.local import LocalRuntime

            lake = self._lake or (self.project.lake if self.project is not None and not os.environ.get("CAUCE_LAKE") else default_lake())
            self._runtime = LocalRuntime(lake)
            for connection in self.stack.glue_config.connection_config.values():
                self._runtime.catalog.put_connection(connection.document)
        return self._runtime
