"""Prompt templates: a sandboxed Jinja environment with StrictUndefined.

Templates are found on a search path - user directories first, then the bundled
`stageagent.prompts` - so a user overrides a bundled prompt by dropping a file with the
same name into their directory. A variable the template needs but the caller did not pass
is an error naming the template and the variable, never an empty string in a prompt.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from .exceptions import PromptError

_UNDEFINED_RE = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")

# what Jinja lets escape while loading or parsing hostile text: a file that is not UTF-8
# (UnicodeDecodeError), a NUL in a file name or a literal past int's digit limit
# (ValueError), nesting deeper than the parser recurses (RecursionError), an unreadable
# file (OSError)
_UNPARSABLE = (ValueError, RecursionError, OSError)


def _unparsable(what: str, name: str, exc: BaseException) -> PromptError:
    detail = str(exc) if not isinstance(exc, RecursionError) else "nested too deeply"
    return PromptError(f"{what} cannot be parsed: {type(exc).__name__}: {detail[:200]}",
                       template=name)


class PromptEnvironment:
    """Loads and renders prompt templates from a search path."""

    def __init__(self, search_path: Iterable[str | Path] = (), *, include_bundled: bool = True):
        from jinja2 import FileSystemLoader, StrictUndefined
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        dirs = [Path(p) for p in search_path]
        if include_bundled:
            from stageagent import prompts

            dirs.append(prompts.PATH)
        self.search_path = dirs
        self._env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader([str(d) for d in dirs]),
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["tojson_compact"] = _tojson_compact

    def exists(self, name: str) -> bool:
        from jinja2 import TemplateNotFound

        try:
            self._env.get_template(name)
        except TemplateNotFound:
            return False
        except Exception:
            return True  # it exists; its syntax error is reported when it is loaded
        return True

    def _template(self, name: str) -> Any:
        from jinja2 import TemplateNotFound, TemplateSyntaxError

        try:
            return self._env.get_template(name)
        except TemplateNotFound:
            where = ", ".join(str(d) for d in self.search_path)
            raise PromptError(f"prompt template {name!r} not found (searched: {where})",
                              template=name) from None
        except TemplateSyntaxError as exc:
            raise PromptError(f"prompt template {name!r} line {exc.lineno}: {exc.message}",
                              template=name) from None
        except _UNPARSABLE as exc:  # not UTF-8, a NUL in the name, absurd literals, nesting
            raise _unparsable(f"prompt template {name!r}", name, exc) from None

    def check(self, name: str) -> None:
        """Load (and so syntax-check) a template; raises PromptError."""
        self._template(name)

    def check_source(self, source: str, *, name: str = "<string>") -> None:
        """Syntax-check an inline template; raises PromptError."""
        from jinja2 import TemplateSyntaxError

        try:
            self._env.parse(source)
        except TemplateSyntaxError as exc:
            raise PromptError(f"prompt {name!r} line {exc.lineno}: {exc.message}",
                              template=name) from None
        except _UNPARSABLE as exc:
            raise _unparsable(f"prompt {name!r}", name, exc) from None

    def render(self, name: str, variables: dict[str, Any] | None = None) -> str:
        return self._render(self._template(name), name, variables or {})

    def render_string(self, source: str, variables: dict[str, Any] | None = None,
                      *, name: str = "<string>") -> str:
        return self.render_compiled(self.compile(source, name=name), variables, name=name)

    def compile(self, source: str, *, name: str = "<string>") -> Any:
        """An inline template, parsed once: render it with `render_compiled`."""
        from jinja2 import TemplateSyntaxError

        try:
            return self._env.from_string(source)
        except TemplateSyntaxError as exc:
            raise PromptError(f"prompt {name!r} line {exc.lineno}: {exc.message}",
                              template=name) from None
        except _UNPARSABLE as exc:
            raise _unparsable(f"prompt {name!r}", name, exc) from None

    def render_compiled(self, template: Any, variables: dict[str, Any] | None = None,
                        *, name: str = "<string>") -> str:
        """Render a template from `compile`; a missing variable is a PromptError."""
        return self._render(template, name, variables or {})

    @staticmethod
    def _render(template: Any, name: str, variables: dict[str, Any]) -> str:
        from jinja2 import UndefinedError
        from jinja2.exceptions import SecurityError

        try:
            return template.render(**variables)
        except UndefinedError as exc:
            m = _UNDEFINED_RE.search(str(exc))
            variable = (m.group(1) or m.group(2)) if m else None
            raise PromptError(
                f"prompt template {name!r} needs variable {variable!r}, which was not "
                f"given (given: {', '.join(sorted(variables)) or 'none'})",
                template=name, variable=variable) from None
        except SecurityError as exc:
            raise PromptError(f"prompt template {name!r}: unsafe operation: {exc}",
                              template=name) from None


def _tojson_compact(value: Any) -> str:
    from pydantic_core import to_json

    return to_json(value, fallback=str).decode()
