"""The Files API over Unity Catalog Volumes, kept in a local folder.

`/Volumes/<catalog>/<schema>/<volume>/rest` lives at `<root>/<catalog>/<schema>/<volume>/rest`. A
volume exists when its folder does; anything else is a 404, as on Databricks.
"""

from __future__ import annotations

import os
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lakehouse_standins.databricks.errors import ApiError

VOLUMES_PREFIX = "/Volumes/"


class Volumes:
    def __init__(self, root: Path, known: list[str]) -> None:
        self.root = root
        # Folders whose files the orchestrator can no longer read (the lost-messages fault).
        self.lost: set[Path] = set()
        for volume in known:
            self.volume_dir(volume.strip("/")).mkdir(parents=True, exist_ok=True)

    def volume_dir(self, catalog_schema_volume: str) -> Path:
        return self.root.joinpath(*catalog_schema_volume.split("/"))

    def local(self, volume_path: str) -> Path:
        """Map a `/Volumes/...` path to the local file, refusing unknown volumes and `..` escapes."""
        if not volume_path.startswith(VOLUMES_PREFIX):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Path must start with /Volumes/: {volume_path}")
        parts = [p for p in volume_path[len(VOLUMES_PREFIX) :].split("/") if p]
        if len(parts) < 3 or any(p in (".", "..") for p in parts):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Not a path inside a volume: {volume_path}")
        volume = self.root.joinpath(*parts[:3])
        if not volume.is_dir():
            raise ApiError(404, "NOT_FOUND", f"Volume /Volumes/{'/'.join(parts[:3])} does not exist")
        return volume.joinpath(*parts[3:])

    def is_lost(self, path: Path) -> bool:
        return any(path.is_relative_to(folder) for folder in self.lost)

    def files(self) -> list[Path]:
        """Every file in every volume; tests use it to prove temporary files were removed."""
        return sorted(p for p in self.root.rglob("*") if p.is_file())


def _path(request: Request) -> str:
    return unquote(request.path_params["path"])


def _last_modified(path: Path) -> str:
    return formatdate(path.stat().st_mtime, usegmt=True)


def routes(volumes: Volumes) -> list[Route]:
    async def files(request: Request) -> Response:
        try:
            return await _files(request, volumes, volumes.local(_path(request)))
        except ApiError as exc:
            return exc.response()

    async def directories(request: Request) -> Response:
        try:
            return _directories(request, volumes.local(_path(request)))
        except ApiError as exc:
            return exc.response()

    methods = ["GET", "PUT", "DELETE", "HEAD"]
    return [
        Route("/api/2.0/fs/files{path:path}", files, methods=methods),
        Route("/api/2.0/fs/directories{path:path}", directories, methods=methods),
    ]


async def _files(request: Request, volumes: Volumes, path: Path) -> Response:
    if request.method == "PUT":
        if path.is_dir():
            raise ApiError(409, "ALREADY_EXISTS", f"A directory exists at {_path(request)}")
        overwrite = request.query_params.get("overwrite", "true").lower() != "false"
        if path.exists() and not overwrite:
            raise ApiError(409, "ALREADY_EXISTS", f"The file {_path(request)} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(await request.body())
        return Response(status_code=204)
    if not path.is_file() or (request.method != "DELETE" and volumes.is_lost(path)):
        raise ApiError(404, "NOT_FOUND", f"The file {_path(request)} does not exist")
    if request.method == "DELETE":
        path.unlink()
        return Response(status_code=204)
    headers = {"last-modified": _last_modified(path), "content-type": "application/octet-stream"}
    if request.method == "HEAD":
        headers["content-length"] = str(path.stat().st_size)
        return Response(status_code=200, headers=headers)
    return Response(path.read_bytes(), headers=headers)


def _directories(request: Request, path: Path) -> Response:
    if request.method == "PUT":
        if path.is_file():
            raise ApiError(409, "ALREADY_EXISTS", f"A file exists at {_path(request)}")
        path.mkdir(parents=True, exist_ok=True)
        return Response(status_code=204)
    if not path.is_dir():
        raise ApiError(404, "NOT_FOUND", f"The directory {_path(request)} does not exist")
    if request.method == "DELETE":
        if any(path.iterdir()):
            raise ApiError(409, "DIRECTORY_NOT_EMPTY", f"The directory {_path(request)} is not empty")
        path.rmdir()
        return Response(status_code=204)
    if request.method == "HEAD":
        return Response(status_code=200)
    base = _path(request).rstrip("/")
    contents = []
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        item: dict[str, object] = {"path": f"{base}/{entry.name}", "name": entry.name}
        item["is_directory"] = entry.is_dir()
        if entry.is_file():
            stat = entry.stat()
            item["file_size"] = stat.st_size
            item["last_modified"] = int(stat.st_mtime * 1000)
        contents.append(item)
    # A single page, and never a next_page_token: the SDK keeps paging while one is present.
    return JSONResponse({"contents": contents})
