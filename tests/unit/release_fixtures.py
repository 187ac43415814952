"""Synthetic commits and pull requests for the changelog, risk and release-body unit tests."""

from __future__ import annotations

from opsgh.ports import CommitInfo, FileChange, PullInfo

BASE = "https://github.com/acme/shop"
WEB_FLOW = ("GitHub", "noreply@github.com")


def sha(name: str) -> str:
    """A fake 40-hex sha that starts with the readable `name` (hex digits only)."""
    return (name + "0" * 40)[:40]


def commit(name: str, parents: tuple[str, ...], message: str, *, at: int = 0, author: str | None = "bob",
           committer: tuple[str, str] | None = None, author_name: str | None = None) -> CommitInfo:
    committer_name, committer_email = committer or ((author or "dev").title(), f"{author or 'dev'}@example.com")
    return CommitInfo(sha=sha(name), message=message, author_name=author_name or (author or "dev").title(),
                      author_login=author, committer_name=committer_name, committer_email=committer_email,
                      committed_at=f"2027-01-{10 + at // 86400:02d}T{(at % 86400) // 3600:02d}:"
                                   f"{(at % 3600) // 60:02d}:{at % 60:02d}Z",
                      parents=tuple(sha(p) if len(p) < 40 else p for p in parents),
                      html_url=f"{BASE}/commit/{sha(name)}")


def pull(number: int, title: str, merge: str | None, *, author: str = "bob", labels: tuple[str, ...] = (),
         updated_at: int = 0, merged: bool = True) -> PullInfo:
    stamp = f"2027-01-{10 + updated_at // 86400:02d}T{(updated_at % 86400) // 3600:02d}:" \
            f"{(updated_at % 3600) // 60:02d}:{updated_at % 60:02d}Z"
    return PullInfo(number=number, title=title, body=None, state="closed", html_url=f"{BASE}/pull/{number}",
                    author=author, head_ref=f"feature/{number}", head_sha=sha(f"ee{number}"), base_ref="main",
                    base_sha=sha("aa"), labels=labels, draft=False, created_at=stamp, updated_at=stamp,
                    merged_at=stamp if merged else None, merge_commit_sha=sha(merge) if merge else None)


def change(filename: str, patch: str | None, status: str = "modified") -> FileChange:
    lines = (patch or "").splitlines()
    return FileChange(filename, status, sum(1 for line in lines if line.startswith("+")),
                      sum(1 for line in lines if line.startswith("-")), patch)
