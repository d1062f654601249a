"""Built-in string functions: format(), join(), split(), replace() and the regular expression
functions (with RE2's syntax where Python's differs, and a time limit: a backtracking engine can
be exponential where RE2 is linear), case, trimming, substrings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from iac_ims.terraform.context import MAX_COLLECTION_SIZE, MAX_STRING_SIZE
from iac_ims.terraform.evaluation import FunctionEvaluation
from iac_ims.terraform.functions_common import Table, check_size, int_arg, list_arg, registrar, str_arg
from iac_ims.terraform.functions_encoding import NotJson, json_encode
from iac_ims.terraform.semantics import EvalError, num_str, to_bool, to_num, to_str
from iac_ims.terraform.values import Unknown

FUNCTIONS: Table = {}
register = registrar(FUNCTIONS)

MAX_REGEX_PATTERN = 1000
MAX_REGEX_INPUT = 1024 * 1024
MAX_FORMAT_WIDTH = 10_000


def _fmt_one(verb: str, flags: str, width: int | None, prec: int | None, arg: Any) -> str:
    if verb == "v":
        if "#" in flags or type(arg) in (list, dict):
            try:
                s = json_encode(arg)
            except NotJson:
                raise EvalError("format(): cannot format an object whose attributes are not known")
        elif arg is None:
            s = "null"
        else:
            s = to_str(arg)
    elif verb == "s":
        if arg is None:
            raise EvalError("format(): a null value cannot be formatted with %s")
        s = to_str(arg)
        if prec is not None:
            s = s[:prec]
    elif verb == "q":
        s = json.dumps(to_str(arg), ensure_ascii=False)
    elif verb == "t":
        s = "true" if to_bool(arg) else "false"
    elif verb in "dbox":
        n = to_num(arg)
        if type(n) is float:
            if not n.is_integer():
                raise EvalError(f"format(): %{verb} requires a whole number, got {num_str(n)}")
            n = int(n)
        spec = {"d": "d", "b": "b", "o": "o", "x": "x"}[verb]
        s = format(abs(n), spec)
        if n < 0:
            s = "-" + s
        elif "+" in flags:
            s = "+" + s
        elif " " in flags:
            s = " " + s
    elif verb == "X":
        n = int_arg(arg, "format")
        s = format(n, "X")
    elif verb in "feEgG":
        n = to_num(arg)
        p = 6 if prec is None else prec
        if verb in "gG" and prec is None:
            s = num_str(n) if verb == "g" else num_str(n).upper()
        else:
            s = format(Decimal(num_str(n)), f".{p}{verb}")
        if "+" in flags and not s.startswith("-"):
            s = "+" + s
    else:
        raise EvalError(f"format(): unsupported verb %{verb}")
    if width is not None and len(s) < width:
        pad = width - len(s)
        if "-" in flags:
            s = s + " " * pad
        elif "0" in flags and verb in "dboxXfeEgG":
            sign = s[0] if s[:1] in ("-", "+", " ") else ""
            s = sign + "0" * pad + s[len(sign):]
        else:
            s = " " * pad + s
    return s


def _format(fmt: str, args: tuple) -> str:
    out: list[str] = []
    n = len(fmt)
    i = 0
    argi = 0
    used = 0
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        i = j + 1
        if i >= n:
            raise EvalError("format(): unterminated format verb at end of string")
        if fmt[i] == "%":
            out.append("%")
            i += 1
            continue
        flags = ""
        while i < n and fmt[i] in "-+# 0":
            flags += fmt[i]
            i += 1
        if i < n and fmt[i] == "[":
            k = fmt.find("]", i)
            if k < 0:
                raise EvalError("format(): unterminated argument index")
            try:
                argi = int(fmt[i + 1 : k]) - 1
            except ValueError:
                raise EvalError("format(): invalid argument index") from None
            i = k + 1
        width = None
        s = i
        while i < n and fmt[i].isdigit():
            i += 1
        if i > s:
            width = int(fmt[s:i])
        prec = None
        if i < n and fmt[i] == ".":
            i += 1
            s = i
            while i < n and fmt[i].isdigit():
                i += 1
            prec = int(fmt[s:i]) if i > s else 0
        if (width or 0) > MAX_FORMAT_WIDTH or (prec or 0) > MAX_FORMAT_WIDTH:
            raise EvalError("format(): width or precision too large")
        if i >= n:
            raise EvalError("format(): unterminated format verb")
        verb = fmt[i]
        i += 1
        if argi < 0 or argi >= len(args):
            raise EvalError(f"format(): not enough arguments for %{verb}")
        out.append(_fmt_one(verb, flags, width, prec, args[argi]))
        argi += 1
        used = max(used, argi)
    if used < len(args):
        raise EvalError("format(): too many arguments; no verbs left to consume them")
    return "".join(out)


@register("format")
def _format_fn(ev: FunctionEvaluation, fmt: Any, *args: Any) -> Any:
    return check_size(_format(str_arg(fmt, "format"), args), "format()")


@register("formatlist")
def _formatlist(ev: FunctionEvaluation, fmt: Any, *args: Any) -> Any:
    f = str_arg(fmt, "formatlist")
    n = -1
    for a in args:
        if type(a) is list:
            if n >= 0 and len(a) != n:
                raise EvalError("formatlist(): all list arguments must have the same length")
            n = len(a)
    if n < 0:
        return [_format(f, args)]
    if n > MAX_COLLECTION_SIZE:
        return Unknown("formatlist() result is too large")
    out = []
    for i in range(n):
        ev.spend()
        out.append(_format(f, tuple(a[i] if type(a) is list else a for a in args)))
    return out


@register("join")
def _join(ev: FunctionEvaluation, sep: Any, *lists: Any) -> Any:
    if not lists:
        raise EvalError("join() needs at least one list")
    parts = []
    for lst in lists:
        for x in list_arg(lst, "join"):
            if x is None:
                raise EvalError("join(): an element of the list is null")
            parts.append(str_arg(x, "join"))
    return check_size(str_arg(sep, "join").join(parts), "join()")


@register("split")
def _split(ev: FunctionEvaluation, sep: Any, s: Any) -> Any:
    sp = str_arg(sep, "split")
    text = str_arg(s, "split")
    if sp == "":
        return list(text)
    return check_size(text.split(sp), "split()")


def _go_repl_template(repl: str) -> list:
    """Go regexp replacement syntax ($1, ${1}, ${name}, $name, $$) as literal/group pieces."""
    pieces: list = []
    i = 0
    n = len(repl)
    buf = []
    while i < n:
        c = repl[i]
        if c != "$":
            buf.append(c)
            i += 1
            continue
        if i + 1 < n and repl[i + 1] == "$":
            buf.append("$")
            i += 2
            continue
        if i + 1 < n and repl[i + 1] == "{":
            k = repl.find("}", i + 2)
            if k < 0:
                buf.append(c)
                i += 1
                continue
            name = repl[i + 2 : k]
            i = k + 1
        else:
            k = i + 1
            while k < n and (repl[k].isalnum() or repl[k] == "_"):
                k += 1
            name = repl[i + 1 : k]
            if not name:
                buf.append(c)
                i += 1
                continue
            i = k
        if buf:
            pieces.append("".join(buf))
            buf = []
        pieces.append((int(name) if name.isdigit() else name,))
    if buf:
        pieces.append("".join(buf))
    return pieces


REGEX_TIMEOUT_S = 0.5  # Terraform's RE2 is linear; a backtracking engine needs a time limit


def _compile_regex(pattern: str, fname: str) -> Any:
    import regex

    if len(pattern) > MAX_REGEX_PATTERN:
        return Unknown(f"{fname}(): regular expression longer than {MAX_REGEX_PATTERN} characters is not evaluated")
    try:
        return regex.compile(pattern.replace("\\z", "\\Z"), flags=regex.V0)
    except (regex.error, RecursionError, OverflowError) as e:
        raise EvalError(f"{fname}(): invalid regular expression: {e}") from None


def _regex_too_slow(fname: str) -> Unknown:
    return Unknown(f"{fname}(): the regular expression took longer than {REGEX_TIMEOUT_S} s (backtracking?)")


@register("replace")
def _replace(ev: FunctionEvaluation, s: Any, sub: Any, repl: Any) -> Any:
    text = str_arg(s, "replace")
    old = str_arg(sub, "replace")
    new = str_arg(repl, "replace")
    if len(old) >= 2 and old[0] == "/" and old[-1] == "/":
        if len(text) > MAX_REGEX_INPUT:
            return Unknown("replace(): input too large for a regular expression")
        rx = _compile_regex(old[1:-1], "replace")
        if isinstance(rx, Unknown):
            return rx
        pieces = _go_repl_template(new)

        def expand(m: Any) -> str:
            out = []
            for p in pieces:
                if type(p) is str:
                    out.append(p)
                else:
                    try:
                        out.append(m.group(p[0]) or "")
                    except IndexError:
                        pass
            return "".join(out)

        try:
            result = rx.sub(expand, text, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            return _regex_too_slow("replace")
    else:
        if old == "":
            if len(text) * (len(new) + 1) > MAX_STRING_SIZE:
                return Unknown("replace() result is too large")
            result = text.replace(old, new)
        else:
            if new and len(text) // len(old) * len(new) > MAX_STRING_SIZE:
                return Unknown("replace() result is too large")
            result = text.replace(old, new)
    return check_size(result, "replace()")


def _match_value(m: Any) -> Any:
    rx = m.re
    if rx.groups == 0:
        return m.group(0)
    if rx.groupindex:
        return {name: m.group(name) for name in rx.groupindex}
    return list(m.groups())


@register("regex")
def _regex(ev: FunctionEvaluation, pattern: Any, s: Any) -> Any:
    text = str_arg(s, "regex")
    if len(text) > MAX_REGEX_INPUT:
        return Unknown("regex(): input too large for a regular expression")
    rx = _compile_regex(str_arg(pattern, "regex"), "regex")
    if isinstance(rx, Unknown):
        return rx
    try:
        m = rx.search(text, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        return _regex_too_slow("regex")
    if m is None:
        raise EvalError("regex(): pattern did not match any part of the given string")
    return _match_value(m)


@register("regexall")
def _regexall(ev: FunctionEvaluation, pattern: Any, s: Any) -> Any:
    text = str_arg(s, "regexall")
    if len(text) > MAX_REGEX_INPUT:
        return Unknown("regexall(): input too large for a regular expression")
    rx = _compile_regex(str_arg(pattern, "regexall"), "regexall")
    if isinstance(rx, Unknown):
        return rx
    out = []
    try:
        for m in rx.finditer(text, timeout=REGEX_TIMEOUT_S):
            out.append(_match_value(m))
            if len(out) > MAX_COLLECTION_SIZE:
                return Unknown("regexall() result is too large")
    except TimeoutError:
        return _regex_too_slow("regexall")
    return out


@register("lower")
def _lower(ev: FunctionEvaluation, s: Any) -> Any:
    return str_arg(s, "lower").lower()


@register("upper")
def _upper(ev: FunctionEvaluation, s: Any) -> Any:
    return str_arg(s, "upper").upper()


@register("title")
def _title(ev: FunctionEvaluation, s: Any) -> Any:
    out = []
    prev_sep = True
    for c in str_arg(s, "title"):
        out.append(c.upper() if prev_sep else c)
        if c.isascii():
            prev_sep = not (c.isalnum() or c == "_")
        else:
            prev_sep = c.isspace()
    return "".join(out)


@register("strrev")
def _strrev(ev: FunctionEvaluation, s: Any) -> Any:
    return str_arg(s, "strrev")[::-1]


@register("trimspace")
def _trimspace(ev: FunctionEvaluation, s: Any) -> Any:
    return str_arg(s, "trimspace").strip()


@register("trim")
def _trim(ev: FunctionEvaluation, s: Any, cutset: Any) -> Any:
    return str_arg(s, "trim").strip(str_arg(cutset, "trim"))


@register("trimprefix")
def _trimprefix(ev: FunctionEvaluation, s: Any, prefix: Any) -> Any:
    return str_arg(s, "trimprefix").removeprefix(str_arg(prefix, "trimprefix"))


@register("trimsuffix")
def _trimsuffix(ev: FunctionEvaluation, s: Any, suffix: Any) -> Any:
    return str_arg(s, "trimsuffix").removesuffix(str_arg(suffix, "trimsuffix"))


@register("chomp")
def _chomp(ev: FunctionEvaluation, s: Any) -> Any:
    return str_arg(s, "chomp").rstrip("\r\n")


@register("indent")
def _indent(ev: FunctionEvaluation, n: Any, s: Any) -> Any:
    count = int_arg(n, "indent")
    if count < 0 or count > MAX_FORMAT_WIDTH:
        raise EvalError("indent(): invalid number of spaces")
    text = str_arg(s, "indent")
    return check_size(text.replace("\n", "\n" + " " * count), "indent()")


@register("substr")
def _substr(ev: FunctionEvaluation, s: Any, offset: Any, length: Any) -> Any:
    text = str_arg(s, "substr")
    off = int_arg(offset, "substr")
    ln = int_arg(length, "substr")
    n = len(text)
    if off < 0:
        off += n
        if off < 0:
            raise EvalError("substr(): offset out of range")
    if off > n:
        raise EvalError("substr(): offset out of range")
    if ln < 0:
        if ln != -1:
            raise EvalError("substr(): length must be -1 or non-negative")
        return text[off:]
    return text[off : off + ln]


@register("startswith")
def _startswith(ev: FunctionEvaluation, s: Any, prefix: Any) -> Any:
    return str_arg(s, "startswith").startswith(str_arg(prefix, "startswith"))


@register("endswith")
def _endswith(ev: FunctionEvaluation, s: Any, suffix: Any) -> Any:
    return str_arg(s, "endswith").endswith(str_arg(suffix, "endswith"))


@register("strcontains")
def _strcontains(ev: FunctionEvaluation, s: Any, sub: Any) -> Any:
    return str_arg(sub, "strcontains") in str_arg(s, "strcontains")
