# syntax=docker/dockerfile:1
# The pipeline's image: one image, every process (`docker compose` picks the command).
# No secret is baked in: keys are created on first start in the data volume, or mounted
# (POWERSELL_PSEUDONYM_KEY_FILE, POWERSELL_<MARKETPLACE>_APP_SECRET from the deployment).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY powersell/ powersell/
COPY pipeline_core/ pipeline_core/
COPY connectors/ connectors/
COPY streams/ streams/
COPY schemas/ schemas/
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POWERSELL_DATA_DIR=/var/lib/powersell
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/*.whl \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/powersell --shell /usr/sbin/nologin powersell \
    && install -d -o powersell -g powersell -m 0700 /var/lib/powersell
# Fail the build, not the first start, if a data file the code reads was left out of the wheel.
RUN python -c "from streams.policy import DEFAULT_POLICY; assert DEFAULT_POLICY.is_file(), DEFAULT_POLICY" \
    && powersell-pipeline --help > /dev/null
USER powersell
WORKDIR /var/lib/powersell
# A new named volume mounted on /var/lib/powersell starts with this folder's owner and mode (0700).
ENTRYPOINT ["powersell-pipeline"]
CMD ["--help"]
