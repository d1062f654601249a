"""Built-in functions of files and paths: file(), filebase64(), templatefile() (through the
context, which confines what may be read) and the path functions (as Go's path package does)."""

from __future__ import annotations

import base64
import posixpath
from typing import Any

from iac_ims.terraform.evaluation import FunctionEvaluation
from iac_ims.terraform.functions_common import Table, registrar, str_arg
from iac_ims.terraform.semantics import EvalError, type_name
from iac_ims.terraform.values import Unknown

FUNCTIONS: Table = {}
register = registrar(FUNCTIONS)


@register("file")
def _file(ev: FunctionEvaluation, path: Any) -> Any:
    return ev.ctx.read_file(str_arg(path, "file"))


@register("filebase64")
def _filebase64(ev: FunctionEvaluation, path: Any) -> Any:
    content = ev.ctx.read_file(str_arg(path, "filebase64"))
    if isinstance(content, Unknown) or type(content) is not str:
        return content
    return base64.b64encode(content.encode("utf-8")).decode("ascii")


@register("templatefile", "shallow")
def _templatefile(ev: FunctionEvaluation, path: Any, variables: Any) -> Any:
    p = str_arg(path, "templatefile")
    if variables is None:
        raise EvalError("templatefile(): vars must not be null")
    if type(variables) is not dict:
        raise EvalError(f"templatefile(): vars must be an object, not a {type_name(variables)}")
    content = ev.ctx.read_file(p)
    if isinstance(content, Unknown):
        return content
    if type(content) is not str:
        return Unknown(f"file {p!r} could not be read", (f"file({p})",))
    return ev.call_templatefile(content, variables)




def _go_clean(p: str) -> str:
    if p == "":
        return "."
    c = posixpath.normpath(p)
    if c.startswith("//"):
        c = "/" + c.lstrip("/")
    return c


@register("abspath")
def _abspath(ev: FunctionEvaluation, p: Any) -> Any:
    path = str_arg(p, "abspath")
    if not path.startswith("/"):
        path = posixpath.join(getattr(ev.ctx, "path_cwd", ".") or ".", path)
    return _go_clean(path)


@register("basename")
def _basename(ev: FunctionEvaluation, p: Any) -> Any:
    path = str_arg(p, "basename")
    if path == "":
        return "."
    path = path.rstrip("/")
    if path == "":
        return "/"
    return path[path.rfind("/") + 1 :]


@register("dirname")
def _dirname(ev: FunctionEvaluation, p: Any) -> Any:
    path = str_arg(p, "dirname")
    i = path.rfind("/")
    return _go_clean(path[: i + 1])


@register("pathexpand")
def _pathexpand(ev: FunctionEvaluation, p: Any) -> Any:
    path = str_arg(p, "pathexpand")
    if path.startswith("~"):
        return Unknown("pathexpand() depends on the home directory", ("pathexpand()",))
    return path
