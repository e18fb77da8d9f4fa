"""The Workspace API (folders, files, notebooks) and the calls a client makes to learn who it is.

What `databricks bundle deploy` syncs and keeps its deployment lock and state in, and where every
task's notebook or file must exist before it can run, as on a workspace. Objects live on disk under
`<root>/tree/<path>`, with their type and ids in `<root>/objects.json`, so a restarted stand-in
still has what was deployed to it.

A path is the same object with or without the `/Workspace` prefix (`/Workspace/Shared/x` is
`/Shared/x`). A source file whose first line is Databricks' notebook header (`# Databricks notebook
source`) becomes a NOTEBOOK whose path drops the extension, as an import does on a workspace.
"""

from __future__ import annotations

import base64
import json
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lakehouse_standins.databricks.errors import ApiError, answers_api_errors

_PREFIX = "/Workspace"
# Notebook headers by extension, and the language a workspace gives the notebook.
_NOTEBOOK_HEADERS = {
    ".py": ("# Databricks notebook source", "PYTHON"),
    ".sql": ("-- Databricks notebook source", "SQL"),
    ".scala": ("// Databricks notebook source", "SCALA"),
    ".r": ("# Databricks notebook source", "R"),
}
_EXTENSIONS = {language: ext for ext, (_, language) in _NOTEBOOK_HEADERS.items()}
USER_NAME = "lakehouse@localhost"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _not_found(path: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


@dataclass
class WorkspaceObject:
    object_type: str  # DIRECTORY, FILE or NOTEBOOK
    object_id: int
    created_at: int
    modified_at: int
    language: str | None = None


def notebook_language(name: str, content: bytes) -> str | None:
    """The notebook language of a source file (by extension and header), or None for a plain file."""
    header = _NOTEBOOK_HEADERS.get(PurePosixPath(name).suffix.lower())
    if header is None:
        return None
    first_line = content.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    return header[1] if first_line == header[0] else None


class Workspace:
    """The workspace's object tree: thread-safe, persisted under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tree = root / "tree"
        self._index_file = root / "objects.json"
        self._lock = threading.RLock()
        self.tree.mkdir(parents=True, exist_ok=True)
        self._objects: dict[str, WorkspaceObject] = {}
        if self._index_file.exists():
            saved = json.loads(self._index_file.read_text(encoding="utf-8"))
            self._objects = {path: WorkspaceObject(**entry) for path, entry in saved.items()}
        self._next_id = max((o.object_id for o in self._objects.values()), default=1000) + 1
        for home in ("/", "/Shared", "/Users", f"/Users/{USER_NAME}"):
            self._ensure_directory(home)

    # --- paths ---
    @staticmethod
    def normalize(path: str) -> str:
        """`/Workspace/Shared/x/` -> `/Shared/x`; refuses relative paths and `..`."""
        if not path.startswith("/"):
            raise _invalid(f"Path ({path}) is not absolute.")
        if path == _PREFIX or path.startswith(_PREFIX + "/"):
            path = path[len(_PREFIX) :] or "/"
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise _invalid(f"Path ({path}) is not a canonical path.")
        return "/" + "/".join(parts)

    def local(self, path: str) -> Path:
        """Where the object at a normalized path keeps its content."""
        return self.tree.joinpath(*[p for p in path.split("/") if p])

    # --- reads ---
    def get(self, path: str) -> WorkspaceObject | None:
        with self._lock:
            return self._objects.get(self.normalize(path))

    def status(self, path: str) -> dict[str, Any]:
        normalized = self.normalize(path)
        found = self.get(normalized)
        if found is None:
            raise _not_found(path)
        return self._info(normalized, found, shown_as=path)

    def children(self, path: str) -> list[dict[str, Any]]:
        normalized = self.normalize(path)
        with self._lock:
            found = self._objects.get(normalized)
            if found is None:
                raise _not_found(path)
            if found.object_type != "DIRECTORY":
                return [self._info(normalized, found, shown_as=path)]
            prefix = normalized.rstrip("/") + "/"
            shown = path.rstrip("/") + "/"
            return [
                self._info(child, obj, shown_as=shown + child[len(prefix) :])
                for child, obj in sorted(self._objects.items())
                if child.startswith(prefix) and "/" not in child[len(prefix) :]
            ]

    def read(self, path: str) -> bytes:
        normalized = self.normalize(path)
        found = self.get(normalized)
        if found is None:
            raise _not_found(path)
        if found.object_type == "DIRECTORY":
            raise ApiError(400, "BAD_REQUEST", f"Path ({path}) is a directory.")
        return self.local(normalized).read_bytes()

    def runnable(self, path: str) -> Path | None:
        """The local file behind a notebook or file a task names (`x` finds notebook `x`), else None."""
        return self._local_of(path, directory=False)

    def folder(self, path: str) -> Path | None:
        """The local folder behind a workspace directory, else None."""
        return self._local_of(path, directory=True)

    def _local_of(self, path: str, *, directory: bool) -> Path | None:
        """The local path behind the object at `path` when it is (or is not) a directory, else None."""
        try:
            normalized = self.normalize(path)
        except ApiError:
            return None
        found = self.get(normalized)
        if found is None or (found.object_type == "DIRECTORY") != directory:
            return None
        return self.local(normalized)

    def paths(self) -> dict[str, str]:
        """Every object's path and type; tests compare two deployments with it."""
        with self._lock:
            return {path: obj.object_type for path, obj in sorted(self._objects.items())}

    # --- writes ---
    def mkdirs(self, path: str) -> None:
        normalized = self.normalize(path)
        with self._lock:
            current = ""
            for part in [p for p in normalized.split("/") if p]:
                current += "/" + part
                existing = self._objects.get(current)
                if existing is not None and existing.object_type != "DIRECTORY":
                    raise ApiError(
                        400,
                        "RESOURCE_ALREADY_EXISTS",
                        f"Cannot create directory {normalized}: {current} is a {existing.object_type.lower()}.",
                    )
                self._ensure_directory(current)
            self._save()

    def write(self, path: str, content: bytes, *, overwrite: bool, language: str | None) -> str:
        """Create or replace a file (language None) or notebook; returns the object's normalized path."""
        normalized = self.normalize(path)
        if language is not None:
            suffix = PurePosixPath(normalized).suffix.lower()
            if suffix in _NOTEBOOK_HEADERS or suffix == ".ipynb":
                normalized = normalized[: -len(suffix)]
        parent = str(PurePosixPath(normalized).parent)
        with self._lock:
            owner = self._objects.get(parent)
            if owner is None or owner.object_type != "DIRECTORY":
                raise ApiError(
                    404, "RESOURCE_DOES_NOT_EXIST", f"The parent folder ({parent}) does not exist."
                )
            existing = self._objects.get(normalized)
            if existing is not None:
                if existing.object_type == "DIRECTORY":
                    raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({normalized}) is a directory.")
                if not overwrite:
                    if existing.object_type == "NOTEBOOK":
                        raise ApiError(400, "", f"Path ({normalized}) already exists.")
                    raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"Path ({normalized}) already exists.")
            kind = "NOTEBOOK" if language else "FILE"
            target = self.local(normalized)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(content)
            tmp.replace(target)
            now = _now_ms()
            self._objects[normalized] = WorkspaceObject(
                kind,
                existing.object_id if existing else self._new_id(),
                existing.created_at if existing else now,
                now,
                language,
            )
            self._save()
        return normalized

    def delete(self, path: str, *, recursive: bool) -> None:
        normalized = self.normalize(path)
        with self._lock:
            found = self._objects.get(normalized)
            if found is None:
                raise _not_found(path)
            prefix = normalized.rstrip("/") + "/"
            inside = [p for p in self._objects if p.startswith(prefix)]
            if inside and not recursive:
                raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty.")
            for child in [normalized, *inside]:
                del self._objects[child]
            local = self.local(normalized)
            if local.is_dir():
                shutil.rmtree(local)
            else:
                local.unlink(missing_ok=True)
            self._save()

    def import_tree(self, local_dir: Path, workspace_dir: str) -> list[str]:
        """Every file under `local_dir` into `workspace_dir`, as a sync would (notebooks by their
        header); for tests and benchmarks that run code a bundle does not deploy. Returns the paths."""
        written = []
        for file in sorted(p for p in local_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            relative = file.relative_to(local_dir).as_posix()
            path = f"{workspace_dir.rstrip('/')}/{relative}"
            self.mkdirs(str(PurePosixPath(path).parent))
            content = file.read_bytes()
            written.append(
                self.write(path, content, overwrite=True, language=notebook_language(path, content))
            )
        return written

    # --- internals ---
    def _ensure_directory(self, path: str) -> None:
        if path not in self._objects:
            now = _now_ms()
            self._objects[path] = WorkspaceObject("DIRECTORY", self._new_id(), now, now)
        self.local(path).mkdir(parents=True, exist_ok=True)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _save(self) -> None:
        tmp = self._index_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({p: asdict(o) for p, o in self._objects.items()}), encoding="utf-8")
        tmp.replace(self._index_file)

    def _info(self, normalized: str, obj: WorkspaceObject, *, shown_as: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "object_type": obj.object_type,
            "path": shown_as.rstrip("/") or "/",
            "object_id": obj.object_id,
            "resource_id": str(obj.object_id),
            "created_at": obj.created_at,
            "modified_at": obj.modified_at,
        }
        if obj.object_type != "DIRECTORY":
            info["size"] = self.local(normalized).stat().st_size
        if obj.language:
            info["language"] = obj.language
        return info


def _bool(value: str | None) -> bool:
    return (value or "").lower() == "true"


def routes(workspace: Workspace, base_url: str = "") -> list[Route]:
    async def get_status(request: Request) -> Response:
        info = workspace.status(request.query_params.get("path", ""))
        # The export format comes only when asked for (the CLI asks, to tell .py from .ipynb notebooks).
        if _bool(request.query_params.get("return_export_info")) and info["object_type"] == "NOTEBOOK":
            info["repos_export_format"] = "SOURCE"
        return JSONResponse(info)

    async def list_objects(request: Request) -> Response:
        return JSONResponse({"objects": workspace.children(request.query_params.get("path", ""))})

    async def mkdirs(request: Request) -> Response:
        workspace.mkdirs(str((await request.json()).get("path", "")))
        return JSONResponse({})

    async def delete(request: Request) -> Response:
        body = await request.json()
        workspace.delete(str(body.get("path", "")), recursive=bool(body.get("recursive")))
        return JSONResponse({})

    async def import_object(request: Request) -> Response:
        body = await request.json()
        path = str(body.get("path", ""))
        content = base64.b64decode(body.get("content") or "")
        fmt = str(body.get("format") or "SOURCE").upper()
        if fmt in ("SOURCE", "JUPYTER") and body.get("language"):
            language: str | None = str(body["language"]).upper()
        elif fmt == "AUTO":
            language = notebook_language(path, content)
        elif fmt == "SOURCE":
            raise _invalid("The language must be given for format SOURCE.")
        else:
            language = None
        workspace.write(path, content, overwrite=bool(body.get("overwrite")), language=language)
        return JSONResponse({})

    async def export(request: Request) -> Response:
        path = request.query_params.get("path", "")
        content = workspace.read(path)
        if _bool(request.query_params.get("direct_download")):
            return Response(content, media_type="application/octet-stream")
        found = workspace.get(path)
        file_type = _EXTENSIONS.get(found.language or "", "") if found else ""
        return JSONResponse(
            {"content": base64.b64encode(content).decode(), "file_type": file_type.lstrip(".")}
        )

    async def import_file(request: Request) -> Response:
        path = "/" + unquote(request.path_params["path"]).lstrip("/")
        content = await request.body()
        overwrite = _bool(request.query_params.get("overwrite"))
        workspace.write(path, content, overwrite=overwrite, language=notebook_language(path, content))
        return JSONResponse({})

    async def read_file(request: Request) -> Response:
        path = "/" + unquote(request.path_params["path"]).lstrip("/")
        return Response(workspace.read(path), media_type="application/octet-stream")

    async def me(request: Request) -> Response:
        return JSONResponse(current_user())

    async def host_metadata(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "oidc_endpoint": f"{base}/oidc",
                "workspace_id": WORKSPACE_ID,
                "host_type": "WORKSPACE_HOST",
            }
        )

    async def telemetry(request: Request) -> Response:
        # The CLI reports its own usage here; a workspace accepts it and the stand-in keeps nothing.
        logs = (await request.json()).get("protoLogs") or []
        return JSONResponse({"errors": [], "numProtoSuccess": len(logs)})

    api = "/api/2.0/workspace"
    return [
        Route("/telemetry-ext", telemetry, methods=["POST"]),
        Route(f"{api}/get-status", answers_api_errors(get_status), methods=["GET"]),
        Route(f"{api}/list", answers_api_errors(list_objects), methods=["GET"]),
        Route(f"{api}/mkdirs", answers_api_errors(mkdirs), methods=["POST"]),
        Route(f"{api}/delete", answers_api_errors(delete), methods=["POST"]),
        Route(f"{api}/import", answers_api_errors(import_object), methods=["POST"]),
        Route(f"{api}/export", answers_api_errors(export), methods=["GET"]),
        Route(
            "/api/2.0/workspace-files/import-file/{path:path}",
            answers_api_errors(import_file),
            methods=["POST"],
        ),
        Route("/api/2.0/workspace-files/{path:path}", answers_api_errors(read_file), methods=["GET"]),
        Route("/api/2.0/preview/scim/v2/Me", me, methods=["GET"]),
        Route("/.well-known/databricks-config", host_metadata, methods=["GET"]),
    ]


WORKSPACE_ID = "1000000000000001"


def current_user() -> dict[str, Any]:
    """`GET /api/2.0/preview/scim/v2/Me`: the one user of the stand-in (the token's owner)."""
    return {
        "id": "1000000000000002",
        "userName": USER_NAME,
        "displayName": "Lakehouse local user",
        "active": True,
        "emails": [{"value": USER_NAME, "type": "work", "primary": True}],
        "groups": [{"display": "admins", "type": "direct", "value": "1000000000000003"}],
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    }
