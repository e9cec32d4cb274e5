# tokyo as a container action (the composite action in action.yml is the default; README,
# "Container action"). Built from this repository's root:
#
#   docker build -t ghcr.io/OWNER/tokyo-cli:0.1.0 .
#
# Same pins as the composite action: every dependency by version and sha256 hash
# (requirements/action.txt), tokyo itself from this checkout, no build isolation (hatchling is
# pinned in the lock file too). Pin the base image by digest when publishing.
FROM python:3.12-slim-bookworm

# git: tokyo diffs base.sha...head.sha of the checked-out repository. Not pinned to a version
# (hadolint DL3008): Debian's archive drops a superseded version at each security update, so
# a pin would break the build; the base image, pinned by digest when publishing, fixes it.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/tokyo
COPY requirements/action.txt requirements/action.txt
RUN python -m venv /opt/tokyo/venv \
    && /opt/tokyo/venv/bin/pip install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps \
       -r requirements/action.txt
COPY pyproject.toml README.md agents.yaml ./
COPY workflows workflows
COPY src src
RUN /opt/tokyo/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps --no-build-isolation . \
    && rm -rf /opt/tokyo/src /opt/tokyo/workflows
COPY docker/entrypoint.sh /opt/tokyo/entrypoint.sh

# GitHub runs container actions as the image's default user, root ("Dockerfile support for
# GitHub Actions": no USER, or the mounted workspace is not writable); git is told the
# workspace, owned by the runner's user, is safe (entrypoint.sh).
ENV TOKYO_HOME=/tmp/tokyo-home PATH=/opt/tokyo/venv/bin:$PATH
ENTRYPOINT ["/opt/tokyo/entrypoint.sh"]
