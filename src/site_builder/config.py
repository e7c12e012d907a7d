"""Where things are: one object every stage of the build receives."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("full", "smoke")
DEFAULT_TIMEOUT_S = {"full": 900, "smoke": 120}


def repository_url(root: Path = ROOT) -> str:
    """``extra.repository`` from mkdocs.yml: drives the Colab links and the install cell."""
    import yaml

    try:
        text = (root / "mkdocs.yml").read_text(encoding="utf-8")
        # mkdocs.yml may hold !!python tags; only the plain `extra` mapping is needed here.
        data = yaml.load(text, Loader=yaml.BaseLoader) or {}
        return str(data["extra"]["repository"]).rstrip("/")
    except (OSError, KeyError, TypeError, yaml.YAMLError) as err:
        where = root / "mkdocs.yml"
        raise ValueError(f"{where}: set extra.repository to the course's URL") from err


@dataclass(frozen=True)
class Config:
    root: Path = ROOT
    tutorials_dir: Path = ROOT / "tutorials"
    helpers_dir: Path = ROOT / "src" / "course"
    build_dir: Path = ROOT / "build"
    profile: str = "full"
    timeout_s: float | None = None  # per lesson; None: the profile's default or the lesson's own
    repo_url: str = ""  # empty: extra.repository in mkdocs.yml, the one place it is set

    @classmethod
    def from_env(cls, **overrides) -> Config:
        """Defaults, then COURSE_* environment variables, then explicit overrides."""
        values: dict = {}
        if os.environ.get("COURSE_PROFILE"):
            values["profile"] = os.environ["COURSE_PROFILE"].strip().lower()
        if os.environ.get("COURSE_BUILD_DIR"):
            values["build_dir"] = Path(os.environ["COURSE_BUILD_DIR"]).resolve()
        if os.environ.get("COURSE_TUTORIALS_DIR"):
            values["tutorials_dir"] = Path(os.environ["COURSE_TUTORIALS_DIR"]).resolve()
        if os.environ.get("COURSE_HELPERS_DIR"):  # another copy of src/course (benchmarks)
            values["helpers_dir"] = Path(os.environ["COURSE_HELPERS_DIR"]).resolve()
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.setdefault("repo_url", repository_url(values.get("root", ROOT)))
        config = cls(**values)
        if config.profile not in PROFILES:
            raise ValueError(
                f"Unknown profile {config.profile!r}: use one of {', '.join(PROFILES)}."
            )
        return config

    @property
    def cache_dir(self) -> Path:
        return self.build_dir / "cache" / self.profile

    @property
    def work_dir(self) -> Path:
        """Lessons run here: their files never land in the source tree."""
        return self.build_dir / "work" / self.profile

    @property
    def pages_dir(self) -> Path:
        return self.build_dir / "pages" / self.profile

    @property
    def failures_dir(self) -> Path:
        return self.build_dir / "failures" / self.profile

    def lesson_timeout(self, file_conf: dict) -> float:
        if self.timeout_s is not None:
            return float(self.timeout_s)
        if self.profile == "full" and "timeout" in file_conf:
            return float(file_conf["timeout"])
        return float(DEFAULT_TIMEOUT_S[self.profile])


def write_json(path: Path, data) -> None:
    """Write ``data`` as JSON through a temporary file and a rename: a reader sees the old
    file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
